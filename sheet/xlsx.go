package sheet

import (
	"archive/zip"
	"bufio"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strconv"
	"strings"
)

// xlsxSource streams the rows of one worksheet of an xlsx workbook. The zip
// is read in place when the input is a file or in memory, else from a
// temporary copy. Only the workbook, its relationships, the shared strings
// and the worksheet are unpacked, each as a stream: no other part is read, so
// a zip bomb elsewhere costs nothing, and the parts read are bounded by their
// declared sizes (UnzipBytes), which the zip reader holds their data to.
type xlsxSource struct {
	lim   Limits
	spool *os.File // the temporary copy of the input, removed on close
	sst   *sharedStrings
	part  io.ReadCloser // the worksheet, unpacked
	dec   *xml.Decoder
	row   int // number of the last row read
	cells []string
	value []byte // the <v> of the current cell
	text  []byte // the <t> texts of the current inline string
}

// maxPart is the largest unpacked workbook or relationships part read.
const maxPart = 16 << 20

// maxRows is the number of rows of an Excel worksheet.
const maxRows = 1 << 20

// openXLSX opens the worksheet sheetName (the first when empty) of the
// workbook in r; br is r behind a buffer, for a stream to be copied from.
func openXLSX(r io.Reader, br *bufio.Reader, lim Limits, sheetName string) (_ *xlsxSource, err error) {
	s := &xlsxSource{lim: lim}
	defer func() {
		if err != nil {
			_ = s.close()
		}
	}()
	ra, size, ok := readerAt(r)
	if !ok {
		if s.spool, size, err = spool(br); err != nil {
			return nil, err
		}
		ra = s.spool
	}
	zr, err := zip.NewReader(ra, size)
	if err != nil {
		return nil, &Error{Reason: "无法读取 xlsx 文件：文件已损坏、不完整（如下载中断）或不是 Excel 工作簿"}
	}
	parts := map[string]*zip.File{}
	for _, f := range zr.File {
		parts[strings.ToLower(strings.TrimPrefix(strings.ReplaceAll(f.Name, `\`, "/"), "/"))] = f
	}
	sheetPath, sstPath, err := findSheet(parts, sheetName)
	if err != nil {
		return nil, err
	}
	sheetPart, sstPart := parts[sheetPath], parts[sstPath]
	if sheetPart == nil {
		return nil, &Error{Reason: "无法读取 xlsx 文件：工作簿缺少工作表的内容"}
	}
	unpacked := sheetPart.UncompressedSize64
	if sstPart != nil {
		unpacked += sstPart.UncompressedSize64
	}
	if unpacked > uint64(lim.UnzipBytes) {
		return nil, &Error{Reason: fmt.Sprintf("xlsx 文件解压后超过 %s：不是正常的导出文件，请检查后再导入", Size(lim.UnzipBytes))}
	}
	if s.sst, err = loadSharedStrings(sstPart, lim); err != nil {
		return nil, err
	}
	if s.part, err = sheetPart.Open(); err != nil {
		return nil, brokenXLSX(err)
	}
	s.dec = xml.NewDecoder(newXMLGuard(s.part, lim.CellBytes))
	return s, nil
}

// readerAt returns r for random access when it allows it and knows its size.
func readerAt(r io.Reader) (io.ReaderAt, int64, bool) {
	ra, ok := r.(io.ReaderAt)
	if !ok {
		return nil, 0, false
	}
	size, ok := knownSize(r)
	return ra, size, ok
}

// spool copies a stream to a temporary file, which zip needs to read it.
func spool(br *bufio.Reader) (*os.File, int64, error) {
	f, err := os.CreateTemp("", "yanzhen-xlsx-*")
	if err != nil {
		return nil, 0, fmt.Errorf("sheet: copy xlsx: %w", err)
	}
	n, err := io.Copy(f, br)
	if err != nil {
		_ = f.Close()
		_ = os.Remove(f.Name())
		var se *Error
		if errors.As(err, &se) {
			return nil, 0, se
		}
		return nil, 0, fmt.Errorf("sheet: copy xlsx: %w", err)
	}
	return f, n, nil
}

// brokenXLSX is the error of a part that cannot be unpacked or parsed.
func brokenXLSX(err error) error {
	var se *Error
	if errors.As(err, &se) {
		return se
	}
	return &Error{Reason: "xlsx 文件内容已损坏，无法继续读取：" + err.Error()}
}

// findSheet returns the paths of the worksheet named name (the first when
// name is empty) and of the shared strings, from the workbook and its
// relationships.
func findSheet(parts map[string]*zip.File, name string) (sheetPath, sstPath string, err error) {
	workbook := "xl/workbook.xml"
	if rels, err := readRels(parts, "_rels/.rels", ""); err != nil {
		return "", "", err
	} else if p := rels.byType("/officeDocument"); p != "" {
		workbook = p
	}
	dir := path.Dir(workbook)
	rels, err := readRels(parts, path.Join(dir, "_rels", path.Base(workbook)+".rels"), dir)
	if err != nil {
		return "", "", err
	}
	sstPath = rels.byType("/sharedStrings")
	if sstPath == "" {
		sstPath = path.Join(dir, "sharedstrings.xml")
	}
	sheets, err := readSheets(parts[workbook])
	if err != nil {
		return "", "", err
	}
	if len(sheets) == 0 {
		return "", "", &Error{Reason: "工作簿中没有工作表"}
	}
	for _, sh := range sheets {
		if name == "" || strings.EqualFold(sh.name, name) {
			return rels.targets[sh.rel], sstPath, nil
		}
	}
	return "", "", &Error{Reason: fmt.Sprintf("工作簿中没有名为“%s”的工作表", name), missing: true}
}

// rels are the relationships of a part: targets by id, and ids by type.
type rels struct {
	targets map[string]string // id → lower-case path in the zip
	types   map[string]string // type → id
}

func (r rels) byType(suffix string) string {
	for typ, id := range r.types {
		if strings.HasSuffix(typ, suffix) {
			return r.targets[id]
		}
	}
	return ""
}

// readRels reads a relationships part; targets are relative to dir. A
// missing part has no relationships.
func readRels(parts map[string]*zip.File, name, dir string) (rels, error) {
	r := rels{targets: map[string]string{}, types: map[string]string{}}
	err := eachElement(parts[strings.ToLower(name)], func(e xml.StartElement) {
		if e.Name.Local != "Relationship" {
			return
		}
		id, target, typ := attr(e, "Id"), attr(e, "Target"), attr(e, "Type")
		if strings.HasPrefix(target, "/") {
			target = strings.TrimPrefix(target, "/")
		} else {
			target = path.Join(dir, target)
		}
		r.targets[id] = strings.ToLower(target)
		r.types[typ] = id
	})
	return r, err
}

type sheetRef struct{ name, rel string }

// readSheets lists the worksheets of a workbook part in order.
func readSheets(f *zip.File) ([]sheetRef, error) {
	var out []sheetRef
	err := eachElement(f, func(e xml.StartElement) {
		if e.Name.Local == "sheet" {
			out = append(out, sheetRef{name: attr(e, "name"), rel: attr(e, "id")})
		}
	})
	return out, err
}

// eachElement calls fn with every start element of a small part (at most
// maxPart unpacked); a nil part has none.
func eachElement(f *zip.File, fn func(xml.StartElement)) error {
	if f == nil {
		return nil
	}
	if f.UncompressedSize64 > maxPart {
		return &Error{Reason: fmt.Sprintf("无法读取 xlsx 文件：%s 超过 %s", f.Name, Size(maxPart))}
	}
	rc, err := f.Open()
	if err != nil {
		return brokenXLSX(err)
	}
	defer rc.Close()
	dec := xml.NewDecoder(rc)
	for {
		tok, err := dec.RawToken()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return brokenXLSX(err)
		}
		if e, ok := tok.(xml.StartElement); ok {
			fn(e)
		}
	}
}

// attr returns the attribute of e with the local name, whatever its prefix.
func attr(e xml.StartElement, local string) string {
	for _, a := range e.Attr {
		if a.Name.Local == local {
			return a.Value
		}
	}
	return ""
}

func (s *xlsxSource) next() ([]string, int, error) {
	for {
		tok, err := s.dec.RawToken()
		if errors.Is(err, io.EOF) {
			return nil, 0, io.EOF
		}
		if err != nil {
			return nil, 0, brokenXLSX(err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if t.Name.Local == "row" {
				return s.readRow(t)
			}
		case xml.EndElement:
			if t.Name.Local == "sheetData" {
				return nil, 0, io.EOF
			}
		}
	}
}

// readRow reads the cells of the row that start opens. Rows the file leaves
// out (empty ones) count in the number of rows it returns.
func (s *xlsxSource) readRow(start xml.StartElement) ([]string, int, error) {
	num, err := strconv.Atoi(attr(start, "r"))
	if err != nil || num <= s.row || num > maxRows {
		num = s.row + 1
	}
	rows := num - s.row
	s.row = num
	s.cells = s.cells[:0]
	var issue *rowIssue
	col, size := -1, 0
	for {
		tok, err := s.dec.RawToken()
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return nil, 0, brokenXLSX(err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if t.Name.Local != "c" {
				continue
			}
			if c := columnIndex(attr(t, "r")); c > col {
				col = c
			} else {
				col++
			}
			v, cut, err := s.readCell(t)
			if err != nil {
				return nil, 0, err
			}
			size += len(v)
			switch {
			case issue != nil:
			case cut:
				issue = &rowIssue{col: col, reason: fmt.Sprintf("单元格超过 %s：本行未导入", Size(int64(s.lim.CellBytes)))}
			case col >= s.lim.Columns:
				if strings.TrimSpace(v) != "" {
					issue = &rowIssue{col: -1, reason: fmt.Sprintf("超过 %d 列：本行未导入", s.lim.Columns)}
				}
			case size > s.lim.RowBytes:
				issue = &rowIssue{col: -1, reason: fmt.Sprintf("整行超过 %s：本行未导入", Size(int64(s.lim.RowBytes)))}
			default:
				for len(s.cells) < col {
					s.cells = append(s.cells, "")
				}
				s.cells = append(s.cells, v)
			}
		case xml.EndElement:
			if t.Name.Local == "row" || t.Name.Local == "sheetData" {
				if issue != nil {
					return nil, rows, issue
				}
				return s.cells, rows, nil
			}
		}
	}
}

// readCell reads the cell that start opens: its value as stored (a number
// or date serial as written, a shared string looked up) and whether it is
// over CellBytes.
func (s *xlsxSource) readCell(start xml.StartElement) (string, bool, error) {
	s.value, s.text = s.value[:0], s.text[:0]
	inValue, inText, cut := false, false, false
	phonetic := 0
	for {
		tok, err := s.dec.RawToken()
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return "", false, brokenXLSX(err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "v":
				inValue = true
			case "t":
				inText = phonetic == 0
			case "rPh":
				phonetic++
			case cutMark:
				cut = true
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "v":
				inValue = false
			case "t":
				inText = false
			case "rPh":
				phonetic = max(0, phonetic-1)
			case "c":
				return s.cellValue(attr(start, "t"), cut)
			}
		case xml.CharData:
			switch {
			case inValue:
				s.value = appendCapped(s.value, t, s.lim.CellBytes, &cut)
			case inText:
				s.text = appendCapped(s.text, t, s.lim.CellBytes, &cut)
			}
		}
	}
}

// cellValue is the value of the cell just read, by its type.
func (s *xlsxSource) cellValue(typ string, cut bool) (string, bool, error) {
	switch typ {
	case "s":
		if len(bytes.TrimSpace(s.value)) == 0 {
			return "", cut, nil
		}
		i, err := strconv.Atoi(string(bytes.TrimSpace(s.value)))
		if err != nil {
			return "", false, brokenXLSX(fmt.Errorf("shared string index %q", s.value))
		}
		v, long, err := s.sst.get(i)
		if errors.Is(err, errBadStringIndex) {
			return "", false, brokenXLSX(fmt.Errorf("shared string %d of %d", i, len(s.sst.ends)))
		}
		return v, cut || long, err
	case "inlineStr":
		return string(unescapeOOXML(s.text)), cut, nil
	}
	return string(s.value), cut, nil
}

// columnIndex returns the column of a cell reference (A1 → 0, AB7 → 27), or
// -1 when ref has none.
func columnIndex(ref string) int {
	col := 0
	for i := 0; i < len(ref) && i < 4; i++ {
		c := ref[i] | 0x20 // lower case
		if c < 'a' || c > 'z' {
			if i == 0 {
				return -1
			}
			return col - 1
		}
		col = col*26 + int(c-'a'+1)
	}
	return -1
}

func (s *xlsxSource) close() error {
	var errs []error
	if s.part != nil {
		errs = append(errs, s.part.Close())
	}
	errs = append(errs, s.sst.close())
	if s.spool != nil {
		errs = append(errs, s.spool.Close(), os.Remove(s.spool.Name()))
	}
	return errors.Join(errs...)
}
