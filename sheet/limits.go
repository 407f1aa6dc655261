package sheet

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
)

// Limits bound what reading one file may cost, whatever its content: the
// memory of a Reader stays within a few times RowBytes (plus, for xlsx, a
// shared-string table of at most sstInMemory bytes; a larger one is kept in a
// temporary file). A zero field takes its default.
type Limits struct {
	// FileBytes bounds the file. A file known to be larger is refused before
	// any row is read; a stream that grows past it ends the reading there.
	FileBytes int64
	// CellBytes bounds one cell as the file writes it; a row with a longer
	// cell is refused with its number.
	CellBytes int
	// RowBytes bounds one row: a csv record's text, an xlsx row's cells
	// together. A longer row is refused with its number.
	RowBytes int
	// Columns bounds the columns of a row: a row with content beyond them is
	// refused; empty cells beyond them are dropped.
	Columns int
	// UnzipBytes bounds what the parts of an xlsx file that are read (the
	// worksheet and the shared strings) may unpack to: a zip bomb is refused
	// by its declared sizes, which the zip reader holds the data to.
	UnzipBytes int64
}

// The default limits.
const (
	DefaultFileBytes  = 200 << 20
	DefaultCellBytes  = 1 << 20
	DefaultRowBytes   = 4 << 20
	DefaultColumns    = 1000
	DefaultUnzipBytes = 2 << 30
)

// OrDefaults returns l with every zero field set to its default.
func (l Limits) OrDefaults() Limits {
	if l.FileBytes <= 0 {
		l.FileBytes = DefaultFileBytes
	}
	if l.CellBytes <= 0 {
		l.CellBytes = DefaultCellBytes
	}
	if l.RowBytes <= 0 {
		l.RowBytes = DefaultRowBytes
	}
	l.RowBytes = max(l.RowBytes, l.CellBytes)
	if l.Columns <= 0 {
		l.Columns = DefaultColumns
	}
	if l.UnzipBytes <= 0 {
		l.UnzipBytes = DefaultUnzipBytes
	}
	l.UnzipBytes = min(l.UnzipBytes, math.MaxUint32) // shared strings are placed by 32-bit offsets
	return l
}

// TooLarge is the error of a file over limit bytes, in words for its user.
func TooLarge(limit int64) *Error {
	return &Error{Reason: fmt.Sprintf("文件超过 %s 上限，请拆分后分批导入", Size(limit))}
}

// Size writes a byte count as users read it: 200 MB, 512 KB, 100 字节.
func Size(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MB", n>>20)
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%d KB", n>>10)
	}
	return fmt.Sprintf("%d 字节", n)
}

// knownSize returns the size of r when r knows it: a regular file, or a
// reader with a Size method (bytes.Reader, io.SectionReader).
func knownSize(r io.Reader) (int64, bool) {
	switch v := r.(type) {
	case *os.File:
		fi, err := v.Stat()
		if err != nil || !fi.Mode().IsRegular() {
			return 0, false
		}
		return fi.Size(), true
	case interface{ Size() int64 }:
		return v.Size(), true
	}
	return 0, false
}

// boundedReader reads at most limit bytes of r and then fails with
// TooLarge, so that an endless stream ends.
type boundedReader struct {
	r     io.Reader
	left  int64
	limit int64
}

func (b *boundedReader) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// One byte more tells a stream of exactly limit bytes from a longer one.
		var one [1]byte
		if n, err := io.ReadFull(b.r, one[:]); n == 0 {
			if errors.Is(err, io.EOF) {
				return 0, io.EOF
			}
			return 0, err
		}
		return 0, TooLarge(b.limit)
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.r.Read(p)
	b.left -= int64(n)
	return n, err
}
