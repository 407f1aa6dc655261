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
package sheet

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/transform"
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
}

// Error is a problem with a file's content, in words for its user: the row
// (0 when it concerns the whole file), the column as the file names it, and why.
type Error struct {
	Row    int
	Column string
	Reason string
}

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
// how many rows of the sheet the call went past: 1, plus blank lines a csv
// reader skipped.
type source interface {
	next() (cells []string, rows int, err error)
	close() error
}

// Reader reads the rows of one sheet after its header. It is not safe for
// concurrent use.
type Reader struct {
	src     source
	columns Columns
	index   map[string]int    // field → column index
	headers map[string]string // field → header text as in the file
	num     int               // number of the last row read
	err     error
}

// Open reads the header of r and returns a Reader positioned at the first row
// below it. An xlsx file is read into memory whole (zip needs random access;
// large worksheets spill to temporary files); a csv file is streamed. Close
// the Reader when done.
func Open(r io.Reader, o Options) (*Reader, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	format, err := detect(br, o)
	if err != nil {
		return nil, err
	}
	var src source
	switch format {
	case XLSX:
		src, err = openXLSX(br, o.Sheet)
	default:
		src, err = openCSV(br)
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

func (rd *Reader) readHeader(required []string) error {
	for rd.num < headerScanRows {
		cells, rows, err := rd.src.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		rd.num += rows
		index, headers := rd.match(cells)
		if isHeader(index, required, len(rd.columns)) {
			rd.index, rd.headers = index, headers
			return nil
		}
	}
	if len(required) == 0 {
		return &Error{Reason: "未找到表头行：请确认文件前几行中有列名"}
	}
	var missing []string
	for _, f := range required {
		missing = append(missing, rd.aliasList(f))
	}
	return &Error{Reason: "缺少必需的列：" + strings.Join(missing, "；")}
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
				index[field], headers[field] = i, strings.TrimSpace(cells[i])
				break
			}
		}
	}
	return index, headers
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
// At the end it returns io.EOF. The Row is valid until the next call.
func (rd *Reader) Next() (Row, error) {
	if rd.err != nil {
		return Row{}, rd.err
	}
	for {
		cells, rows, err := rd.src.next()
		if err != nil {
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

// xlsxSource streams one worksheet with excelize.
type xlsxSource struct {
	f    *excelize.File
	rows *excelize.Rows
}

// xlsxLimits bound what an upload may unpack to (zip bombs): the whole
// workbook, and the part of a worksheet kept in memory before it spills to a
// temporary file.
const (
	xlsxUnzipLimit    = 2 << 30
	xlsxInMemoryLimit = 16 << 20
)

func openXLSX(r io.Reader, sheetName string) (*xlsxSource, error) {
	f, err := excelize.OpenReader(r, excelize.Options{UnzipSizeLimit: xlsxUnzipLimit, UnzipXMLSizeLimit: xlsxInMemoryLimit})
	if err != nil {
		if f != nil {
			_ = f.Close()
		}
		return nil, &Error{Reason: "无法读取 xlsx 文件：文件已损坏或不是 Excel 工作簿"}
	}
	if sheetName == "" {
		list := f.GetSheetList()
		if len(list) == 0 {
			_ = f.Close()
			return nil, &Error{Reason: "工作簿中没有工作表"}
		}
		sheetName = list[0]
	}
	rows, err := f.Rows(sheetName)
	if err != nil {
		_ = f.Close()
		var missing excelize.ErrSheetNotExist
		if errors.As(err, &missing) {
			return nil, &Error{Reason: fmt.Sprintf("工作簿中没有名为“%s”的工作表", sheetName)}
		}
		return nil, fmt.Errorf("sheet: open worksheet %s: %w", sheetName, err)
	}
	return &xlsxSource{f: f, rows: rows}, nil
}

func (s *xlsxSource) next() ([]string, int, error) {
	if !s.rows.Next() {
		if err := s.rows.Error(); err != nil {
			return nil, 0, err
		}
		return nil, 0, io.EOF
	}
	cells, err := s.rows.Columns(excelize.Options{RawCellValue: true})
	return cells, 1, err
}

func (s *xlsxSource) close() error {
	return errors.Join(s.rows.Close(), s.f.Close())
}

// csvSource streams a csv file, decoded to UTF-8.
type csvSource struct {
	r *csv.Reader
	// line is the line the next record would start on if no blank line came
	// first; Excel shows blank lines as empty rows, the csv reader skips them.
	line int
}

// sniffBytes is how much of a csv file decides its encoding and delimiter.
const sniffBytes = 64 << 10

// openCSV decodes GBK (read as GB18030, its superset) when the start of the
// file is not valid UTF-8, drops a UTF-8 BOM, and takes a tab as the delimiter
// when the first line has tabs but no commas.
func openCSV(br *bufio.Reader) (*csvSource, error) {
	head, err := br.Peek(sniffBytes)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, fmt.Errorf("sheet: read csv: %w", err)
	}
	var r io.Reader = br
	if bytes.HasPrefix(head, []byte("\xef\xbb\xbf")) {
		_, _ = br.Discard(3)
		head = head[3:]
	} else if !validUTF8Prefix(head, len(head) == sniffBytes) {
		r = transform.NewReader(br, simplifiedchinese.GB18030.NewDecoder())
	}
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	cr.ReuseRecord = true
	first, _, _ := bytes.Cut(head, []byte("\n"))
	if !bytes.ContainsRune(first, ',') && bytes.ContainsRune(first, '\t') {
		cr.Comma = '\t'
	}
	return &csvSource{r: cr, line: 1}, nil
}

// validUTF8Prefix reports whether b is valid UTF-8, forgiving a character cut
// at the end when b is only the start of the file.
func validUTF8Prefix(b []byte, truncated bool) bool {
	if truncated {
		for i := 0; i < utf8.UTFMax && len(b) > 0 && !utf8.RuneStart(b[len(b)-1]); i++ {
			b = b[:len(b)-1]
		}
		if len(b) > 0 && b[len(b)-1] >= utf8.RuneSelf {
			b = b[:len(b)-1]
		}
	}
	return utf8.Valid(b)
}

func (s *csvSource) next() ([]string, int, error) {
	rec, err := s.r.Read()
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return nil, 0, &Error{Row: pe.StartLine, Reason: "csv 格式错误：" + pe.Err.Error()}
		}
		return nil, 0, err
	}
	start, _ := s.r.FieldPos(0)
	rows := 1 + max(0, start-s.line)
	// A quoted cell may span lines; the record ends where its last cell does.
	last, _ := s.r.FieldPos(len(rec) - 1)
	s.line = last + strings.Count(rec[len(rec)-1], "\n") + 1
	return rec, rows, nil
}

func (s *csvSource) close() error { return nil }
