module carbonkube.example/go

go 1.22
