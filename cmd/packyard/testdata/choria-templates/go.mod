module example.com/choria

go 1.22
