package store

import "unsafe"

// CellSize is the size of a stored series, for TestPlainSeriesSize.
const CellSize = unsafe.Sizeof(cell{})
