module lakehouse.local/cluster-pause

go 1.24
