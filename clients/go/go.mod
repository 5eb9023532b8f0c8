module github.com/tributary-dev/tributary/clients/go

go 1.23
