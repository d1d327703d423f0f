module github.com/acme/backplane-rpcagent

go 1.26
