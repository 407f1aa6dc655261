package export

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

var shanghai = time.FixedZone("CST", 8*3600)

func sample(rows int) *Workbook {
	at := time.Date(2026, 11, 20, 18, 5, 0, 0, shanghai)
	return &Workbook{
		Title:      "高新区调度台账（2026年11月）",
		ExportedAt: time.Date(2026, 12, 1, 9, 30, 0, 0, shanghai),
		Sheets: []Sheet{{
			Name: "调度台账",
			Columns: []Column{
				{Header: "序号", Kind: Integer}, {Header: "单位", Kind: Text}, {Header: "下达时间", Kind: DateTime},
				{Header: "日期", Kind: Date}, {Header: "综合评分", Kind: Decimal}, {Header: "满意率", Kind: Percent},
				{Header: "反馈情况", Kind: Text, Wrap: true},
			},
			Rows: func(emit func([]any) error) error {
				for i := range rows {
					var feedback any
					if i == 1 {
						feedback = strings.Repeat("已协调物业完成电梯维修并回访群众，", 6)
					}
					if err := emit([]any{i + 1, "住建局", at.Add(time.Duration(i) * time.Hour), at, 92.345, 96.5, feedback}); err != nil {
						return err
					}
				}
				return nil
			},
		}, {
			Name:    "说明",
			Columns: []Column{{Header: "项目"}},
			Rows:    func(emit func([]any) error) error { return nil },
		}},
	}
}

func open(t *testing.T, wb *Workbook) *excelize.File {
	t.Helper()
	var buf bytes.Buffer
	if err := wb.Write(&buf); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func TestWorkbookAsAClerkHandsIt(t *testing.T) {
	f := open(t, sample(3))
	if got := f.GetSheetList(); fmt.Sprint(got) != "[调度台账 说明]" {
		t.Fatalf("sheets %v", got)
	}
	rows, err := f.GetRows("调度台账")
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"高新区调度台账（2026年11月）　导出时间：2026-12-01 09:30"},
		{"序号", "单位", "下达时间", "日期", "综合评分", "满意率", "反馈情况"},
		{"1", "住建局", "2026-11-20 18:05", "2026-11-20", "92.35", "96.50%"},
		{"2", "住建局", "2026-11-20 19:05", "2026-11-20", "92.35", "96.50%", strings.Repeat("已协调物业完成电梯维修并回访群众，", 6)},
		{"3", "住建局", "2026-11-20 20:05", "2026-11-20", "92.35", "96.50%"},
	}
	if fmt.Sprintf("%q", rows) != fmt.Sprintf("%q", want) {
		t.Errorf("cells:\n%q\nwant\n%q", rows, want)
	}
	merged, err := f.GetMergeCells("调度台账")
	if err != nil || len(merged) != 1 || merged[0].GetStartAxis() != "A1" || merged[0].GetEndAxis() != "G1" {
		t.Errorf("the title is not merged across the columns: %v %v", merged, err)
	}
	panes, err := f.GetPanes("调度台账")
	if err != nil || !panes.Freeze || panes.YSplit != 2 || panes.TopLeftCell != "A3" {
		t.Errorf("title and header are not frozen: %+v %v", panes, err)
	}
	// Times are numbers (serial dates) shown as dates, in the zone's clock.
	for _, c := range []struct {
		cell string
		raw  float64
	}{{"C3", 46346 + (18*60+5)/1440.0}, {"D3", 46346}, {"E3", 92.345}, {"F3", 0.965}, {"A3", 1}} {
		raw, err := f.GetCellValue("调度台账", c.cell, excelize.Options{RawCellValue: true})
		if err != nil {
			t.Fatal(err)
		}
		var v float64
		if _, err := fmt.Sscan(raw, &v); err != nil || math.Abs(v-c.raw) > 1e-9 {
			t.Errorf("%s holds %q, want the number %v", c.cell, raw, c.raw)
		}
	}
	// Widths fit the text: the unit column is narrow, the feedback capped.
	for _, c := range []struct {
		col      string
		min, max float64
	}{{"A", minWidth, 7}, {"B", 8, 10}, {"C", 17, 20}, {"G", maxWidth, maxWidth}} {
		w, err := f.GetColWidth("调度台账", c.col)
		if err != nil || w < c.min || w > c.max {
			t.Errorf("column %s is %v wide (%v), want %v to %v", c.col, w, err, c.min, c.max)
		}
	}
	if rows, _ := f.GetRows("说明"); len(rows) != 2 || rows[1][0] != "项目" {
		t.Errorf("an empty sheet still has its title and header: %q", rows)
	}
}

func TestWrongValuesAreRefused(t *testing.T) {
	wb := sample(1)
	wb.Sheets[0].Rows = func(emit func([]any) error) error {
		return emit([]any{1, "住建局", "昨天", nil, nil, nil, nil})
	}
	if err := wb.Write(&bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "下达时间") {
		t.Errorf("text in a time column: %v", err)
	}
	wb.Sheets[0].Rows = func(emit func([]any) error) error { return emit([]any{1}) }
	if err := wb.Write(&bytes.Buffer{}); err == nil {
		t.Error("a short row was written")
	}
	boom := errors.New("database gone")
	wb.Sheets[0].Rows = func(emit func([]any) error) error { return boom }
	if err := wb.Write(&bytes.Buffer{}); !errors.Is(err, boom) {
		t.Errorf("the rows' error is lost: %v", err)
	}
}

// TestLongSheetsStream writes more rows than are held back to fit the
// widths: every row arrives, in order.
func TestLongSheetsStream(t *testing.T) {
	f := open(t, sample(sampleRows*3+7))
	rows, err := f.GetRows("调度台账")
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2+sampleRows*3+7 {
		t.Fatalf("%d rows", len(rows))
	}
	for i, r := range rows[2:] {
		if r[0] != fmt.Sprint(i+1) {
			t.Fatalf("row %d holds %q", i+3, r[0])
		}
	}
}
