// Package sheet streams the rows of tabular exports: xlsx workbooks and csv
// files in UTF-8 (with or without a BOM) or GBK, as hotline platforms and
// office staff produce them. Columns are found by header names with aliases,
// matched after removing spaces and folding full-width characters, so
// "工单编号", " 工单编号 " and "工单编号＊" are one column. Row numbers are
// those a user sees in Excel: the header row of a plain export is row 1.
//
// Cells are returned as raw text: an xlsx date is its serial number (parse it
// with ParseTime), a number is written as stored. Errors about the file's
// content are *Error values with a Chinese message fit to show to users.
//
// Whatever the input, reading costs bounded memory (Limits): a file, a row,
// a cell and the columns of a row have a size each, and a row over one of
// them is refused with its number while the rows around it are read. Every
// row of a csv file is read or refused: lines end at LF, CRLF or a lone CR,
// and an unclosed quote refuses its row only.
package sheet

import (
	"bufio"
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"unicode"
)

// Format is a file format the reader understands.
type Format string

// The formats.
const (
	XLSX Format = "xlsx"
	CSV  Format = "csv"
)

// headerScanRows is how many rows at the top of a sheet may hold the header;
// rows above it (titles such as "12345工单明细") are skipped.
const headerScanRows = 10

// Columns maps a field name to the header names that mean it, best first.
// The field name itself is always accepted as a header too.
type Columns map[string][]string

// Options says how to read a file.
type Options struct {
	// Name is the file name; its extension picks the format when Format is empty.
	Name string
	// Format is XLSX or CSV; empty means by Name, else by the content's magic bytes.
	Format Format
	// Sheet is the worksheet of an xlsx file; empty means the first one.
	Sheet string
	// Columns are the fields to find and their header names.
	Columns Columns
	// Required fields must have a column, or Open fails. The header row is
	// the first of the top rows that has a column of every required field
	// (or, with none required, of at least two fields).
	Required []string
	// Limits bound the file, its rows and cells; zero fields take the defaults.
	Limits Limits
}

// Error is a problem with a file's content, in words for its user: the row
// (0 when it concerns the whole file), the column as the file names it, and why.
type Error struct {
	Row    int
	Column string
	Reason string
	// missing marks the refusal of a worksheet the workbook does not have (ErrNoSheet).
	missing bool
}

// ErrNoSheet is what an *Error is (errors.Is) when the workbook has no
// worksheet of the name asked for: a caller for whom the sheet is optional
// reads none.
var ErrNoSheet = errors.New("sheet: no such worksheet")

// Is reports whether the error is ErrNoSheet.
func (e *Error) Is(target error) bool { return e.missing && target == ErrNoSheet }

// Error formats the problem as users read it: `第 12 行 受理时间：无法识别的日期 "x"`.
func (e *Error) Error() string {
	switch {
	case e.Row > 0 && e.Column != "":
		return fmt.Sprintf("第 %d 行 %s：%s", e.Row, e.Column, e.Reason)
	case e.Row > 0:
		return fmt.Sprintf("第 %d 行：%s", e.Row, e.Reason)
	case e.Column != "":
		return e.Column + "：" + e.Reason
	}
	return e.Reason
}

// source yields the cells of one row after another; io.EOF ends it. rows is
// how many rows of the sheet the call went past: 1, plus the empty rows an
// xlsx file leaves out. A row the source cannot read (too long, an unclosed
// quote) is a *rowIssue with its rows; the source goes on after it. Any other
// error ends the sheet.
type source interface {
	next() (cells []string, rows int, err error)
	close() error
}

// rowIssue says why a source refused a row; col is the column concerned
// (from 0), or -1 for the whole row.
type rowIssue struct {
	col    int
	reason string
}

func (e *rowIssue) Error() string { return e.reason }

// Reader reads the rows of one sheet after its header. It is not safe for
// concurrent use.
type Reader struct {
	src     source
	columns Columns
	index   map[string]int    // field → column index
	headers map[string]string // field → header text as in the file
	names   []string          // the header row's cells
	num     int               // number of the last row read
	err     error
}

// Open reads the header of r and returns a Reader positioned at the first row
// below it. Both formats are streamed: an xlsx file is read in place when r
// is a file (or a bytes.Reader, or anything with ReadAt and Size), else from
// a temporary copy; a csv file is read as it comes. A file known to be over
// the file limit is refused before any row is read. Close the Reader when done.
func Open(r io.Reader, o Options) (*Reader, error) {
	lim := o.Limits.OrDefaults()
	if size, ok := knownSize(r); ok && size > lim.FileBytes {
		return nil, TooLarge(lim.FileBytes)
	}
	br := bufio.NewReaderSize(&boundedReader{r: r, left: lim.FileBytes, limit: lim.FileBytes}, 64<<10)
	format, err := detect(br, o)
	if err != nil {
		return nil, err
	}
	var src source
	switch format {
	case XLSX:
		src, err = openXLSX(r, br, lim, o.Sheet)
	default:
		src, err = openCSV(br, lim)
	}
	if err != nil {
		return nil, err
	}
	rd := &Reader{src: src, columns: o.Columns}
	if err := rd.readHeader(o.Required); err != nil {
		_ = src.close()
		return nil, err
	}
	return rd, nil
}

// detect picks the format from the options, the extension, or the magic bytes.
func detect(br *bufio.Reader, o Options) (Format, error) {
	if o.Format != "" {
		if o.Format != XLSX && o.Format != CSV {
			return "", &Error{Reason: fmt.Sprintf("不支持的文件格式 %s：请使用 xlsx 或 csv", o.Format)}
		}
		return o.Format, nil
	}
	switch strings.ToLower(strings.TrimPrefix(filepath.Ext(o.Name), ".")) {
	case "xlsx", "xlsm":
		return XLSX, nil
	case "csv", "txt":
		return CSV, nil
	case "xls", "et", "wps":
		return "", &Error{Reason: "不支持旧版 .xls 格式：请在 Excel 中另存为 .xlsx 或 .csv 后再导入"}
	}
	magic, _ := br.Peek(8)
	switch {
	case bytes.HasPrefix(magic, []byte("PK\x03\x04")):
		return XLSX, nil
	case bytes.HasPrefix(magic, []byte{0xD0, 0xCF, 0x11, 0xE0}):
		return "", &Error{Reason: "不支持旧版 .xls 格式：请在 Excel 中另存为 .xlsx 或 .csv 后再导入"}
	}
	return CSV, nil
}

// readHeader reads the top rows up to the header row. A row over a limit
// there is passed over, and named if no header is found.
func (rd *Reader) readHeader(required []string) error {
	var skipped *Error
	for rd.num < headerScanRows {
		cells, rows, err := rd.src.next()
		var issue *rowIssue
		switch {
		case errors.Is(err, io.EOF):
			return rd.noHeader(required, skipped)
		case errors.As(err, &issue):
			rd.num += rows
			if skipped == nil {
				skipped = &Error{Row: rd.num, Reason: issue.reason}
			}
			continue
		case err != nil:
			return err
		}
		rd.num += rows
		index, headers := rd.match(cells)
		if isHeader(index, required, len(rd.columns)) {
			rd.index, rd.headers = index, headers
			rd.names = make([]string, len(cells))
			for i, c := range cells {
				rd.names[i] = headerName(c)
			}
			return nil
		}
	}
	return rd.noHeader(required, skipped)
}

// noHeader is the error of a file without a header row; skipped is a top
// row that could not be read, which may have been it.
func (rd *Reader) noHeader(required []string, skipped *Error) error {
	reason := "未找到表头行：请确认文件前几行中有列名"
	if len(required) > 0 {
		var missing []string
		for _, f := range required {
			missing = append(missing, rd.aliasList(f))
		}
		reason = "缺少必需的列：" + strings.Join(missing, "；")
	}
	if skipped != nil {
		reason += "（" + skipped.Error() + "）"
	}
	return &Error{Reason: reason}
}

// aliasList names a field's accepted headers for a message: 工单编号（或 诉求编号、受理编号）.
func (rd *Reader) aliasList(field string) string {
	names := rd.columns[field]
	switch len(names) {
	case 0:
		return field
	case 1:
		return names[0]
	}
	return names[0] + "（或 " + strings.Join(names[1:], "、") + "）"
}

func isHeader(index map[string]int, required []string, fields int) bool {
	if len(required) == 0 {
		return len(index) >= min(2, fields)
	}
	for _, f := range required {
		if _, ok := index[f]; !ok {
			return false
		}
	}
	return true
}

// match finds the column of each field in a header row: the column of the
// field's best alias present.
func (rd *Reader) match(cells []string) (map[string]int, map[string]string) {
	at := make(map[string]int, len(cells))
	for i, c := range cells {
		if k := HeaderKey(c); k != "" {
			if _, dup := at[k]; !dup {
				at[k] = i
			}
		}
	}
	index, headers := map[string]int{}, map[string]string{}
	for field, aliases := range rd.columns {
		for _, name := range append(aliases[:len(aliases):len(aliases)], field) {
			if i, ok := at[HeaderKey(name)]; ok {
				index[field], headers[field] = i, cmp.Or(headerName(cells[i]), name)
				break
			}
		}
	}
	return index, headers
}

// maxHeaderName bounds the header text that names a column in messages; a
// longer header is named by its alias or position instead.
const maxHeaderName = 256

// headerName is a header cell as messages name its column: trimmed, or ""
// when longer than maxHeaderName.
func headerName(cell string) string {
	if cell = strings.TrimSpace(cell); len(cell) > maxHeaderName {
		return ""
	}
	return cell
}

// HeaderKey is the form in which header names are compared: without spaces
// (including the full-width space), BOM and asterisks of required-column
// marks, with full-width letters and digits folded to ASCII and in lower case.
func HeaderKey(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\ufeff' || r == '*' || r == '＊' || unicode.IsSpace(r):
			continue
		case r >= 0xFF01 && r <= 0xFF5E:
			r -= 0xFEE0
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// Has reports whether the file has a column for field.
func (rd *Reader) Has(field string) bool {
	_, ok := rd.index[field]
	return ok
}

// Column returns the header of field's column as the file writes it, or the
// field's first alias when the file has no such column.
func (rd *Reader) Column(field string) string {
	if h, ok := rd.headers[field]; ok {
		return h
	}
	if names := rd.columns[field]; len(names) > 0 {
		return names[0]
	}
	return field
}

// Next returns the next row that has any content; empty rows are skipped.
// At the end it returns io.EOF. A row that cannot be read — over a limit of
// Options.Limits, or with an unclosed quote — is an *Error with its number,
// and the caller may go on calling Next. Any other error (the file over its
// limit or broken) ends the reading: every later call returns it. The Row is
// valid until the next call.
func (rd *Reader) Next() (Row, error) {
	if rd.err != nil {
		return Row{}, rd.err
	}
	for {
		cells, rows, err := rd.src.next()
		var issue *rowIssue
		switch {
		case errors.As(err, &issue):
			rd.num += rows
			return Row{}, &Error{Row: rd.num, Column: rd.columnName(issue.col), Reason: issue.reason}
		case err != nil:
			var se *Error
			if !errors.Is(err, io.EOF) && !errors.As(err, &se) {
				err = fmt.Errorf("sheet: row %d: %w", rd.num+1, err)
			}
			rd.err = err
			return Row{}, err
		}
		rd.num += rows
		if !blank(cells) {
			return Row{Num: rd.num, cells: cells, rd: rd}, nil
		}
	}
}

// columnName names column i (from 0) by its header, else as 第 K 列; "" for -1.
func (rd *Reader) columnName(i int) string {
	switch {
	case i < 0:
		return ""
	case i < len(rd.names) && rd.names[i] != "":
		return rd.names[i]
	}
	return fmt.Sprintf("第 %d 列", i+1)
}

func blank(cells []string) bool {
	for _, c := range cells {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

// Close releases the file and any temporary files.
func (rd *Reader) Close() error { return rd.src.close() }

// Row is one row of data. Num is its row number as Excel shows it.
type Row struct {
	Num   int
	cells []string
	rd    *Reader
}

// Get returns the trimmed cell of field, or "" when the file has no such column.
func (r Row) Get(field string) string {
	i, ok := r.rd.index[field]
	if !ok || i >= len(r.cells) {
		return ""
	}
	return strings.TrimSpace(r.cells[i])
}

// Has reports whether the file has a column for field.
func (r Row) Has(field string) bool { return r.rd.Has(field) }

// Column returns the header of field's column as the file writes it.
func (r Row) Column(field string) string { return r.rd.Column(field) }

// Errorf returns an *Error about field's cell in this row.
func (r Row) Errorf(field, format string, args ...any) *Error {
	return &Error{Row: r.Num, Column: r.Column(field), Reason: fmt.Sprintf(format, args...)}
}
