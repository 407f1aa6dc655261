package sheet_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"

	"yanzhen/sheet"
)

var shanghai = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		panic(err)
	}
	return loc
}()

var columns = sheet.Columns{
	"number":   {"工单编号", "诉求编号"},
	"received": {"受理时间", "来电时间"},
	"dept":     {"承办单位", "办结单位"},
}

type got struct {
	num                    int
	number, received, dept string
}

func readAll(t *testing.T, rd *sheet.Reader) []got {
	t.Helper()
	var out []got
	for {
		row, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		out = append(out, got{row.Num, row.Get("number"), row.Get("received"), row.Get("dept")})
	}
}

func TestXLSXTitleRowAliasesGapsAndSerialDates(t *testing.T) {
	f := excelize.NewFile()
	defer f.Close()
	sh := f.GetSheetName(0)
	// Row 1 is a title, row 2 the header with odd spacing and a full-width
	// alias, row 4 is empty; 办结单位 loses to 承办单位, its better alias.
	must(t, f.SetCellValue(sh, "A1", "12345 工单明细（2026年11月）"))
	must(t, f.SetSheetRow(sh, "A2", &[]any{" 诉求编号 ", "办结单位", "来电时间", "承办单位＊", "备注"}))
	received := time.Date(2026, 11, 20, 9, 30, 0, 0, time.UTC) // excelize writes the wall clock
	must(t, f.SetSheetRow(sh, "A3", &[]any{2026112000123, "环海街道", received, "住建局"}))
	must(t, f.SetSheetRow(sh, "A5", &[]any{"BJ002", "", "2026/11/21 8:05", " 城管局 "}))
	var buf bytes.Buffer
	must(t, f.Write(&buf))

	rd, err := sheet.Open(&buf, sheet.Options{Name: "导出.xlsx", Columns: columns, Required: []string{"number"}})
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	if rd.Column("number") != "诉求编号" || rd.Column("dept") != "承办单位＊" || rd.Column("received") != "来电时间" {
		t.Errorf("columns = %q %q %q", rd.Column("number"), rd.Column("dept"), rd.Column("received"))
	}
	rows := readAll(t, rd)
	if len(rows) != 2 {
		t.Fatalf("rows = %+v", rows)
	}
	if rows[0].num != 3 || rows[0].number != "2026112000123" || rows[0].dept != "住建局" {
		t.Errorf("row 3 = %+v", rows[0])
	}
	if rows[1].num != 5 || rows[1].number != "BJ002" || rows[1].dept != "城管局" {
		t.Errorf("row 5 = %+v (the empty row 4 must still count)", rows[1])
	}
	// The date cell comes raw, as its serial, and parses in the configured zone.
	tm, err := sheet.ParseTime(rows[0].received, shanghai)
	if err != nil || !tm.Equal(time.Date(2026, 11, 20, 9, 30, 0, 0, shanghai)) {
		t.Errorf("serial %q → %v, %v", rows[0].received, tm, err)
	}
}

func TestXLSXNamedSheet(t *testing.T) {
	f := excelize.NewFile()
	defer f.Close()
	_, err := f.NewSheet("人员")
	must(t, err)
	must(t, f.SetSheetRow("人员", "A1", &[]any{"工单编号"}))
	must(t, f.SetSheetRow("人员", "A2", &[]any{"X1"}))
	var buf bytes.Buffer
	must(t, f.Write(&buf))
	b := buf.Bytes()

	rd, err := sheet.Open(bytes.NewReader(b), sheet.Options{Sheet: "人员", Columns: columns, Required: []string{"number"}})
	if err != nil {
		t.Fatal(err)
	}
	if rows := readAll(t, rd); len(rows) != 1 || rows[0].number != "X1" || rows[0].num != 2 {
		t.Errorf("rows = %+v", rows)
	}
	rd.Close()

	_, err = sheet.Open(bytes.NewReader(b), sheet.Options{Sheet: "部门", Columns: columns})
	if err == nil || err.Error() != "工作簿中没有名为“部门”的工作表" {
		t.Errorf("missing sheet: %v", err)
	}
}

func TestCSVEncodings(t *testing.T) {
	const text = "工单编号,受理时间,承办单位\r\n2026001,2026年11月20日 9时30分,住建局\r\n\r\n2026002,\"2026-11-21\",\"城管局,二科\"\r\n"
	gbk, err := simplifiedchinese.GBK.NewEncoder().String(text)
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string]string{
		"utf8":     text,
		"utf8-bom": "\ufeff" + text,
		"gbk":      gbk,
		"tabs":     strings.ReplaceAll(strings.ReplaceAll(text, ",", "\t"), "城管局\t二科", "城管局,二科"),
	} {
		t.Run(name, func(t *testing.T) {
			rd, err := sheet.Open(strings.NewReader(data), sheet.Options{Name: "x.csv", Columns: columns, Required: []string{"number"}})
			if err != nil {
				t.Fatal(err)
			}
			defer rd.Close()
			rows := readAll(t, rd)
			// The blank line is row 3 in Excel; the next record is row 4.
			want := []got{
				{2, "2026001", "2026年11月20日 9时30分", "住建局"},
				{4, "2026002", "2026-11-21", "城管局,二科"},
			}
			if len(rows) != 2 || rows[0] != want[0] || rows[1] != want[1] {
				t.Errorf("rows = %+v\nwant   %+v", rows, want)
			}
		})
	}
}

func TestCSVRowNumbersFollowExcel(t *testing.T) {
	// A cell spanning two lines is one row in Excel; blank lines are rows too.
	text := "工单编号,受理时间\n\n\nA,\"第一行\n第二行\"\nB,x\n\nC,y\n"
	rd, err := sheet.Open(strings.NewReader(text), sheet.Options{Columns: columns, Required: []string{"number"}})
	if err != nil {
		t.Fatal(err)
	}
	var nums []int
	for _, r := range readAll(t, rd) {
		nums = append(nums, r.num)
	}
	if fmt.Sprint(nums) != "[4 5 7]" {
		t.Errorf("row numbers = %v, want [4 5 7]", nums)
	}
}

func TestCSVLongGBKFile(t *testing.T) {
	// Encoding detection looks at the first 64 KiB; a character cut there
	// must not make a UTF-8 file look like GBK.
	var b strings.Builder
	b.WriteString("工单编号,承办单位\n")
	for b.Len() < 200<<10 {
		b.WriteString("1,住房和城乡建设局\n")
	}
	rd, err := sheet.Open(strings.NewReader(b.String()), sheet.Options{Columns: columns, Required: []string{"number"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range readAll(t, rd) {
		if r.dept != "住房和城乡建设局" {
			t.Fatalf("row %d dept %q", r.num, r.dept)
		}
	}
}

func TestMissingColumnsAndFormats(t *testing.T) {
	_, err := sheet.Open(strings.NewReader("编号,部门\n1,x\n"), sheet.Options{Name: "a.csv", Columns: columns, Required: []string{"number"}})
	if err == nil || err.Error() != "缺少必需的列：工单编号（或 诉求编号）" {
		t.Errorf("missing column: %v", err)
	}
	var se *sheet.Error
	if !errors.As(err, &se) {
		t.Errorf("error is %T, want *sheet.Error", err)
	}
	_, err = sheet.Open(strings.NewReader("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1"), sheet.Options{Columns: columns})
	if err == nil || !strings.Contains(err.Error(), ".xls") {
		t.Errorf("xls: %v", err)
	}
	_, err = sheet.Open(strings.NewReader("PK\x03\x04garbage"), sheet.Options{Columns: columns})
	if err == nil || !strings.Contains(err.Error(), "无法读取 xlsx 文件") {
		t.Errorf("broken xlsx: %v", err)
	}
}

func TestRowErrorText(t *testing.T) {
	rd, err := sheet.Open(strings.NewReader("工单编号,来电时间\n1,明天\n"), sheet.Options{Columns: columns, Required: []string{"number"}})
	if err != nil {
		t.Fatal(err)
	}
	row, err := rd.Next()
	if err != nil {
		t.Fatal(err)
	}
	e := row.Errorf("received", "无法识别的日期 %q", row.Get("received"))
	if e.Error() != `第 2 行 来电时间：无法识别的日期 "明天"` {
		t.Errorf("error text = %s", e)
	}
	if row.Has("dept") || row.Get("dept") != "" || row.Column("dept") != "承办单位" {
		t.Errorf("absent column: has=%v get=%q column=%q", row.Has("dept"), row.Get("dept"), row.Column("dept"))
	}
}

func TestParseTime(t *testing.T) {
	at := func(y int, m time.Month, d, h, mi, s int) time.Time { return time.Date(y, m, d, h, mi, s, 0, shanghai) }
	for in, want := range map[string]time.Time{
		"2026-11-20 09:30:00":         at(2026, 11, 20, 9, 30, 0),
		"2026-11-20 09:30":            at(2026, 11, 20, 9, 30, 0),
		"2026-11-20":                  at(2026, 11, 20, 0, 0, 0),
		"2026/11/20 9:30":             at(2026, 11, 20, 9, 30, 0),
		"2026/1/5":                    at(2026, 1, 5, 0, 0, 0),
		"2026.11.20":                  at(2026, 11, 20, 0, 0, 0),
		"2026年11月20日 9时30分":           at(2026, 11, 20, 9, 30, 0),
		"2026年11月20日9时30分15秒":         at(2026, 11, 20, 9, 30, 15),
		"2026年11月20日9点":               at(2026, 11, 20, 9, 0, 0),
		"2026年11月20日":                 at(2026, 11, 20, 0, 0, 0),
		"２０２６－１１－２０":                  at(2026, 11, 20, 0, 0, 0), // full-width forms fold to ASCII
		"20261120":                    at(2026, 11, 20, 0, 0, 0),
		"202611200930":                at(2026, 11, 20, 9, 30, 0),
		"20261120093005":              at(2026, 11, 20, 9, 30, 5),
		"2026-11-20T09:30:00":         at(2026, 11, 20, 9, 30, 0),
		"2026-11-20T01:30:00Z":        at(2026, 11, 20, 9, 30, 0),
		"2026-11-20T09:30:00+08:00":   at(2026, 11, 20, 9, 30, 0),
		"2026-11-20 09:30:00.000":     at(2026, 11, 20, 9, 30, 0),
		"46346":                       at(2026, 11, 20, 0, 0, 0),
		"46346.395833333336":          at(2026, 11, 20, 9, 30, 0),
		"46346.7499999":               at(2026, 11, 20, 18, 0, 0),
		"59":                          at(1900, 2, 28, 0, 0, 0),
		"61":                          at(1900, 3, 1, 0, 0, 0),
		"  2026-11-20 09:30:00\u3000": at(2026, 11, 20, 9, 30, 0),
	} {
		got, err := sheet.ParseTime(in, shanghai)
		if err != nil || !got.Equal(want) || got.Location() != shanghai {
			t.Errorf("ParseTime(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "明天", "2026-13-01", "2026-02-30", "60", "0", "-5", "3000000", "11/20/2026 x"} {
		if got, err := sheet.ParseTime(bad, shanghai); err == nil {
			t.Errorf("ParseTime(%q) = %v, want an error", bad, got)
		}
	}
}

func TestParseTimeIgnoresMachineZone(t *testing.T) {
	t.Setenv("TZ", "America/Los_Angeles")
	got, err := sheet.ParseTime("46346.5", shanghai)
	if err != nil || got.Format("2006-01-02 15:04 MST") != "2026-11-20 12:00 CST" {
		t.Errorf("got %v, %v", got, err)
	}
}

func TestParseBoolAndInt(t *testing.T) {
	yes, no := true, false
	for in, want := range map[string]*bool{
		"是": &yes, "否": &no, "Y": &yes, "n": &no, "YES": &yes, "1": &yes, "0": &no, "1.0": &yes,
		"已联系": &yes, "未联系": &no, "已解决": &yes, "未解决": &no, "有效": &yes, "无效": &no,
		"纳入": &yes, "不纳入": &no, "√": &yes, "×": &no, "": nil, " ": nil, "Ｙ": &yes,
	} {
		got, err := sheet.ParseBool(in)
		if err != nil || (got == nil) != (want == nil) || (got != nil && *got != *want) {
			t.Errorf("ParseBool(%q) = %v, %v", in, got, err)
		}
	}
	for _, bad := range []string{"部分解决", "maybe", "2"} {
		if _, err := sheet.ParseBool(bad); err == nil {
			t.Errorf("ParseBool(%q): want an error", bad)
		}
	}
	for in, want := range map[string]int{"3": 3, "3.0": 3, "3次": 3, "３": 3, "": 0, " 0 ": 0} {
		if got, err := sheet.ParseInt(in); err != nil || got != want {
			t.Errorf("ParseInt(%q) = %d, %v", in, got, err)
		}
	}
	for _, bad := range []string{"1.5", "三", "x3"} {
		if _, err := sheet.ParseInt(bad); err == nil {
			t.Errorf("ParseInt(%q): want an error", bad)
		}
	}
	for in, want := range map[string]string{
		"2.026112000123E12": "2026112000123", "13800000001.0": "13800000001", "BJ001": "BJ001",
		"2026112000123": "2026112000123", "1.5": "1.5", " 7 ": "7",
	} {
		if got := sheet.NumberText(in); got != want {
			t.Errorf("NumberText(%q) = %q", in, got)
		}
	}
}

func TestHeaderKey(t *testing.T) {
	for in, want := range map[string]string{
		" 工单 编号 ": "工单编号", "工单编号＊": "工单编号", "\ufeff工单编号": "工单编号", "ＩＤ": "id", "受理\u3000时间": "受理时间",
	} {
		if got := sheet.HeaderKey(in); got != want {
			t.Errorf("HeaderKey(%q) = %q", in, got)
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestDateOnly(t *testing.T) {
	for in, want := range map[string]bool{
		"2026-11-20": true, "2026年11月20日": true, "20261120": true, "46346": true, "46346.0": true, "2026/11/20": true,
		"2026-11-20 00:00": false, "2026-11-20 18:00:00": false, "202611201800": false, "46346.75": false,
		"2026-11-20T18:00:00+08:00": false, "2026年11月20日18时": false,
	} {
		if got := sheet.DateOnly(in); got != want {
			t.Errorf("DateOnly(%q) = %v", in, got)
		}
	}
}
