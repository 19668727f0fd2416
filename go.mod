module github.com/mirframework/mir

go 1.26
