module github.com/acme/backplane

go 1.26
