package sheet_test

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/unicode"

	"yanzhen/sheet"
)

// outcome is what reading a file gave: the rows read (number:ticket) and
// the rows refused (number:reason), in order, and the error that ended it.
type outcome struct {
	rows, refused []string
	err           error
}

// readOutcome reads every row of a file, going on after refused rows as the
// importers do.
func readOutcome(t *testing.T, r io.Reader, o sheet.Options) outcome {
	t.Helper()
	if o.Columns == nil {
		o.Columns, o.Required = columns, []string{"number"}
	}
	rd, err := sheet.Open(r, o)
	if err != nil {
		return outcome{err: err}
	}
	defer rd.Close()
	var out outcome
	for {
		row, err := rd.Next()
		var se *sheet.Error
		switch {
		case errors.Is(err, io.EOF):
			return out
		case errors.As(err, &se) && se.Row > 0:
			out.refused = append(out.refused, fmt.Sprintf("%d:%s", se.Row, se))
		case err != nil:
			out.err = err
			return out
		default:
			out.rows = append(out.rows, fmt.Sprintf("%d:%s", row.Num, row.Get("number")))
		}
	}
}

func TestCSVLineEndings(t *testing.T) {
	// Every physical row is read, whatever ends its line: a lone CR (old Mac
	// files) does not glue two rows together.
	rows := []string{"工单编号,受理时间", "A1,x", "A2,y", "A3,z", "A4,w"}
	for name, text := range map[string]string{
		"cr":    strings.Join(rows, "\r") + "\r",
		"crlf":  strings.Join(rows, "\r\n"),
		"lf":    strings.Join(rows, "\n") + "\n",
		"mixed": rows[0] + "\r\n" + rows[1] + "\r" + rows[2] + "\n" + rows[3] + "\r" + rows[4],
	} {
		t.Run(name, func(t *testing.T) {
			got := readOutcome(t, strings.NewReader(text), sheet.Options{})
			if fmt.Sprint(got.rows) != "[2:A1 3:A2 4:A3 5:A4]" || got.refused != nil || got.err != nil {
				t.Errorf("got %+v", got)
			}
		})
	}
}

func TestCSVGBKWithMixedLineEndings(t *testing.T) {
	text := "工单编号,承办单位\r\nG1,住建局\rG2,城管局\nG3,教育局\r\n"
	gbk, err := simplifiedchinese.GBK.NewEncoder().String(text)
	if err != nil {
		t.Fatal(err)
	}
	rd, err := sheet.Open(strings.NewReader(gbk), sheet.Options{Columns: columns, Required: []string{"number"}})
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	var got []string
	for _, r := range readAll(t, rd) {
		got = append(got, fmt.Sprintf("%d:%s:%s", r.num, r.number, r.dept))
	}
	if fmt.Sprint(got) != "[2:G1:住建局 3:G2:城管局 4:G3:教育局]" {
		t.Errorf("rows = %v", got)
	}
}

func TestCSVQuotes(t *testing.T) {
	for _, c := range []struct {
		name, text string
		rows       string
		refused    string
	}{
		{
			name: "unclosed quote refuses its row only",
			text: "工单编号,受理时间\nA1,x\nA2,\"未闭合\nA3,y\nA4,z\n",
			rows: "[2:A1 4:A3 5:A4]", refused: "[3:第 3 行：引号未闭合：本行未导入]",
		},
		{
			name: "a quote closed after a line end with text after it",
			text: "工单编号,受理时间\nA1,\"开\nA2,y\nA3,\"z\"w\nA4,v\n",
			rows: "[3:A2 4:A3 5:A4]", refused: "[2:第 2 行：引号不成对：本行未导入]",
		},
		{
			name: "a cell over two lines stays one row",
			text: "工单编号,受理时间\nA1,\"第一行\r\n第二行\"\nA2,\"说\"\"好\"\"\"\n",
			rows: "[2:A1 3:A2]",
		},
		{
			name: "a quote inside a cell on one line is text",
			text: "工单编号,受理时间\nA1,\"5\"寸管道\nA2,3\"\n",
			rows: "[2:A1 3:A2]",
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := readOutcome(t, strings.NewReader(c.text), sheet.Options{})
			if fmt.Sprint(got.rows) != c.rows || (c.refused != "" || got.refused != nil) && fmt.Sprint(got.refused) != c.refused || got.err != nil {
				t.Errorf("got %+v\nwant rows %s refused %s", got, c.rows, c.refused)
			}
		})
	}
	// The cells keep their text: the quote doubled, the line end inside.
	rd, err := sheet.Open(strings.NewReader("工单编号,受理时间\nA1,\"第一行\r\n第二行\"\nA2,\"说\"\"好\"\"\"\nA3,\"5\"寸\n"), sheet.Options{Columns: columns, Required: []string{"number"}})
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	var cells []string
	for _, r := range readAll(t, rd) {
		cells = append(cells, r.received)
	}
	if fmt.Sprintf("%q", cells) != `["第一行\n第二行" "说\"好\"" "5\"寸"]` {
		t.Errorf("cells = %q", cells)
	}
}

// small are limits a test can reach with little data.
var small = sheet.Limits{CellBytes: 100, RowBytes: 300, Columns: 5}

func TestCSVLimits(t *testing.T) {
	long := strings.Repeat("长", 40) // 120 bytes
	for _, c := range []struct {
		name, text, rows, refused string
	}{
		{
			name: "a long cell",
			text: "工单编号,受理时间\nA1," + long + "\nA2,x\n",
			rows: "[3:A2]", refused: "[2:第 2 行 受理时间：单元格超过 100 字节：本行未导入]",
		},
		{
			name: "a long quoted cell",
			text: "工单编号,受理时间\nA1,\"" + long + "\"\nA2,x\n",
			rows: "[3:A2]", refused: "[2:第 2 行 受理时间：单元格超过 100 字节：本行未导入]",
		},
		{
			name: "a long row",
			text: "工单编号,受理时间\nA1" + strings.Repeat(","+strings.Repeat("x", 99), 4) + "\nA2,x\n",
			rows: "[3:A2]", refused: "[2:第 2 行：整行超过 300 字节：本行未导入]",
		},
		{
			name: "a long quoted row on one line",
			text: "工单编号,受理时间\nA1,\"" + strings.Repeat("x,", 200) + "\"\nA2,x\n",
			rows: "[3:A2]", refused: "[2:第 2 行 受理时间：单元格超过 100 字节：本行未导入]",
		},
		{
			name: "content past the last column",
			text: "工单编号,受理时间\nA1,x,,,,,7\nA2,x,,,,,,,,,,,,,,,,\n",
			rows: "[3:A2]", refused: "[2:第 2 行：超过 5 列：本行未导入]",
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := readOutcome(t, strings.NewReader(c.text), sheet.Options{Limits: small})
			if fmt.Sprint(got.rows) != c.rows || fmt.Sprint(got.refused) != c.refused || got.err != nil {
				t.Errorf("got %+v\nwant rows %s refused %s", got, c.rows, c.refused)
			}
		})
	}
}

// endless yields its text, then the byte b forever.
type endless struct {
	head string
	b    byte
}

func (e *endless) Read(p []byte) (int, error) {
	n := copy(p, e.head)
	e.head = e.head[n:]
	for i := n; i < len(p); i++ {
		p[i] = e.b
	}
	return len(p), nil
}

func TestEndlessInput(t *testing.T) {
	// An endless line is refused as a row, then the file limit ends the
	// stream; the rows before it are read.
	got := readOutcome(t, &endless{head: "工单编号,受理时间\nA1,x\nA2,", b: 'a'}, sheet.Options{Limits: sheet.Limits{FileBytes: 8 << 20}})
	if fmt.Sprint(got.rows) != "[2:A1]" || fmt.Sprint(got.refused) != "[3:第 3 行 受理时间：单元格超过 1 MB：本行未导入]" ||
		got.err == nil || got.err.Error() != "文件超过 8 MB 上限，请拆分后分批导入" {
		t.Errorf("endless line: %+v", got)
	}
	// Zeros (/dev/zero) are not text at all.
	got = readOutcome(t, &endless{b: 0}, sheet.Options{})
	if got.err == nil || !strings.HasPrefix(got.err.Error(), "文件不是文本格式的 csv") {
		t.Errorf("zeros: %+v", got)
	}
	// A file known to be over the limit is refused before reading.
	got = readOutcome(t, bytes.NewReader(make([]byte, 2<<20)), sheet.Options{Limits: sheet.Limits{FileBytes: 1 << 20}})
	if got.err == nil || got.err.Error() != "文件超过 1 MB 上限，请拆分后分批导入" {
		t.Errorf("large file: %+v", got)
	}
}

func TestCSVUTF16(t *testing.T) {
	// Excel's "Unicode text" is UTF-16 with a BOM and tabs.
	text, err := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder().String("工单编号\t受理时间\r\nU1\t2026-11-20\r\n")
	if err != nil {
		t.Fatal(err)
	}
	got := readOutcome(t, strings.NewReader(text), sheet.Options{})
	if fmt.Sprint(got.rows) != "[2:U1]" || got.err != nil {
		t.Errorf("utf-16: %+v", got)
	}
}

// workbook writes an xlsx by hand: shared strings when sst is not empty,
// extra parts as they are, and its one worksheet's sheetData, written piece
// by piece (a 64 MB cell is not copied).
func workbook(t *testing.T, sst []string, extra map[string]string, sheetData ...string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) { return flate.NewWriter(w, flate.BestSpeed) })
	add := func(name, body string) {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(w, body); err != nil {
			t.Fatal(err)
		}
	}
	add("_rels/.rels", `<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">`+
		`<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`)
	add("xl/workbook.xml", `<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">`+
		`<sheets><sheet name="工单" sheetId="1" r:id="rId1"/></sheets></workbook>`)
	add("xl/_rels/workbook.xml.rels", `<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">`+
		`<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>`+
		`<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>`)
	w, err := zw.Create("xl/worksheets/sheet1.xml")
	if err != nil {
		t.Fatal(err)
	}
	pieces := append(append([]string{`<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>`},
		sheetData...), `</sheetData></worksheet>`)
	for _, p := range pieces {
		if _, err := io.WriteString(w, p); err != nil {
			t.Fatal(err)
		}
	}
	if len(sst) > 0 {
		var b strings.Builder
		for _, s := range sst {
			b.WriteString("<si>" + s + "</si>")
		}
		add("xl/sharedStrings.xml", `<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">`+b.String()+`</sst>`)
	}
	for name, body := range extra {
		add(name, body)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// inline is an xlsx row of inline strings.
func inline(num int, cells ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `<row r="%d">`, num)
	for _, c := range cells {
		b.WriteString(`<c t="inlineStr"><is><t>` + c + `</t></is></c>`)
	}
	return b.String() + "</row>"
}

func TestXLSXCellsAndTypes(t *testing.T) {
	// Shared strings (rich text, phonetic runs left out, _x000D_ escapes),
	// inline strings, numbers, booleans and cells placed by reference.
	data := workbook(t, []string{`<t>工单编号</t>`, `<r><t>受理</t></r><r><t>时间</t></r><rPh><t>ジカン</t></rPh>`, `<t>A_x000D_1</t>`}, nil,
		`<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c><c r="D1" t="inlineStr"><is><t>承办单位</t></is></c></row>`+
			`<row r="3"><c r="A3" t="s"><v>2</v></c><c r="B3"><v>45981.5</v></c><c r="D3" t="b"><v>1</v></c></row>`+
			`<row r="4"><c r="A4"><v>2026112000123</v></c><c r="B4" t="str"><f>A1</f><v>x</v></c><c r="D4" t="inlineStr"><is><r><t>住</t></r><r><t>建局</t></r></is></c></row>`)
	rd, err := sheet.Open(bytes.NewReader(data), sheet.Options{Columns: columns, Required: []string{"number"}})
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	rows := readAll(t, rd)
	want := []got{{3, "A\r1", "45981.5", "1"}, {4, "2026112000123", "x", "住建局"}}
	if fmt.Sprint(rows) != fmt.Sprint(want) {
		t.Errorf("rows = %+v\nwant   %+v", rows, want)
	}
}

func TestXLSXLimits(t *testing.T) {
	long := strings.Repeat("长", 40)
	data := workbook(t, []string{"<t>" + long + "</t>"}, nil,
		inline(1, "工单编号", "受理时间")+
			inline(2, "A1", long)+ // an inline string over the limit
			`<row r="3"><c t="inlineStr"><is><t>A2</t></is></c><c t="s"><v>0</v></c></row>`+ // a shared one
			inline(4, "A3", "x", "", "", "", "", "7")+ // content past the last column
			inline(5, "A4", "x", "y", "y", "y")+
			inline(6, strings.Repeat("&amp;", 100), "x")+ // entities: cut on a whole one
			inline(7, "A5", "x"))
	got := readOutcome(t, bytes.NewReader(data), sheet.Options{Limits: small})
	wantRefused := "[2:第 2 行 受理时间：单元格超过 100 字节：本行未导入 3:第 3 行 受理时间：单元格超过 100 字节：本行未导入 " +
		"4:第 4 行：超过 5 列：本行未导入 6:第 6 行 工单编号：单元格超过 100 字节：本行未导入]"
	if fmt.Sprint(got.rows) != "[5:A4 7:A5]" || fmt.Sprint(got.refused) != wantRefused || got.err != nil {
		t.Errorf("got %+v", got)
	}
	// A row of shared strings each under the cell limit but over the row's.
	data = workbook(t, []string{"<t>" + strings.Repeat("x", 99) + "</t>"}, nil, inline(1, "工单编号", "受理时间")+
		`<row r="2"><c t="s"><v>0</v></c><c t="s"><v>0</v></c><c t="s"><v>0</v></c><c t="s"><v>0</v></c></row>`+inline(3, "A2", "x"))
	got = readOutcome(t, bytes.NewReader(data), sheet.Options{Limits: small})
	if fmt.Sprint(got.rows) != "[3:A2]" || fmt.Sprint(got.refused) != "[2:第 2 行：整行超过 300 字节：本行未导入]" || got.err != nil {
		t.Errorf("long row: %+v", got)
	}
}

func TestXLSXBombs(t *testing.T) {
	// A worksheet that unpacks past UnzipBytes is refused by its declared size.
	big := workbook(t, nil, nil, inline(1, "工单编号")+strings.Repeat(inline(2, "A1"), 20000))
	got := readOutcome(t, bytes.NewReader(big), sheet.Options{Limits: sheet.Limits{UnzipBytes: 256 << 10}})
	if got.err == nil || got.err.Error() != "xlsx 文件解压后超过 256 KB：不是正常的导出文件，请检查后再导入" {
		t.Errorf("worksheet bomb: %+v", got)
	}
	// A part the reader does not need is never unpacked, whatever it holds.
	data := workbook(t, nil, map[string]string{"xl/styles.xml": strings.Repeat("A", 16<<20)}, inline(1, "工单编号")+inline(2, "A1"))
	if got := readOutcome(t, bytes.NewReader(data), sheet.Options{}); fmt.Sprint(got.rows) != "[2:A1]" || got.err != nil {
		t.Errorf("bomb in styles: %+v", got)
	}
	// A 64 MB cell is cut as it streams and refuses its row.
	data = workbook(t, nil, nil, inline(1, "工单编号", "受理时间"), `<row r="2"><c t="inlineStr"><is><t>A1</t></is></c><c t="inlineStr"><is><t>`,
		strings.Repeat("A", 64<<20), `</t></is></c></row>`, inline(3, "A2", "x"))
	got = readOutcome(t, bytes.NewReader(data), sheet.Options{})
	if fmt.Sprint(got.rows) != "[3:A2]" || fmt.Sprint(got.refused) != "[2:第 2 行 受理时间：单元格超过 1 MB：本行未导入]" || got.err != nil {
		t.Errorf("64 MB cell: %+v", got)
	}
}

func TestXLSXTruncatedAndCorrupt(t *testing.T) {
	var rows strings.Builder
	rows.WriteString(inline(1, "工单编号"))
	for i := 2; i < 2000; i++ {
		rows.WriteString(inline(i, fmt.Sprintf("A%d-%x", i, i*7919)))
	}
	data := workbook(t, nil, nil, rows.String())
	// Cut short, the zip has lost its directory: nothing can be read.
	got := readOutcome(t, bytes.NewReader(data[:len(data)*2/3]), sheet.Options{})
	if got.err == nil || !strings.HasPrefix(got.err.Error(), "无法读取 xlsx 文件：文件已损坏、不完整") || got.rows != nil {
		t.Errorf("truncated: %+v", got)
	}
	// Damaged inside the worksheet's data: the rows before the damage are
	// read, then the reading stops with a clear error.
	bad := bytes.Clone(data)
	i := bytes.Index(bad, []byte("xl/worksheets/sheet1.xml")) + 2000
	for j := range 64 {
		bad[i+j] ^= 0x55
	}
	got = readOutcome(t, bytes.NewReader(bad), sheet.Options{})
	if got.err == nil || !strings.HasPrefix(got.err.Error(), "xlsx 文件内容已损坏，无法继续读取") {
		t.Errorf("corrupt: %d rows, err %v", len(got.rows), got.err)
	}
}

func TestXLSXLargeSharedStrings(t *testing.T) {
	// Shared strings over 32 MB are kept in a temporary file, and read back.
	var sst []string
	for i := range 40000 {
		sst = append(sst, fmt.Sprintf("<t>%06d%s</t>", i, strings.Repeat("长", 300)))
	}
	data := workbook(t, sst, nil, inline(1, "工单编号", "受理时间")+
		`<row r="2"><c t="inlineStr"><is><t>A1</t></is></c><c t="s"><v>39999</v></c></row>`+
		`<row r="3"><c t="inlineStr"><is><t>A2</t></is></c><c t="s"><v>7</v></c></row>`)
	rd, err := sheet.Open(bytes.NewReader(data), sheet.Options{Columns: columns, Required: []string{"number"}})
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	rows := readAll(t, rd)
	if len(rows) != 2 || !strings.HasPrefix(rows[0].received, "039999长") || !strings.HasPrefix(rows[1].received, "000007长") ||
		len(rows[1].received) != 6+900 {
		t.Errorf("rows = %d %.60v", len(rows), rows)
	}
}

func TestLongHeadersAreNamedShort(t *testing.T) {
	// A header too long to quote names its column by the alias it matched,
	// or by position; the row errors that name it stay short.
	long := "工" + strings.Repeat(" ", 300) + "单编号" // HeaderKey drops the spaces
	rd, err := sheet.Open(strings.NewReader(long+",受理时间,"+strings.Repeat("备注", 100)+"\nA1,x,"+strings.Repeat("y", 1001)+"\n"),
		sheet.Options{Columns: columns, Required: []string{"number"}, Limits: sheet.Limits{CellBytes: 1000}})
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	if rd.Column("number") != "工单编号" {
		t.Errorf("column = %q", rd.Column("number"))
	}
	if _, err := rd.Next(); err == nil || err.Error() != "第 2 行 第 3 列：单元格超过 1000 字节：本行未导入" {
		t.Errorf("row error: %v", err)
	}
}
