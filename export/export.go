// Package export writes Excel workbooks from plain rows: sheets a clerk
// would hand to a leader, with a title row (what, whose, which period, when
// exported), Chinese column headers frozen under it, column widths fitted to
// the text, dates as dates, numbers as numbers and rates as percentages. Rows
// are streamed with excelize's StreamWriter, so a sheet of a hundred thousand
// rows takes little memory. It knows nothing of units or tickets: package
// report supplies the sheets.
package export

import (
	"errors"
	"fmt"
	"io"
	"math"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
)

// Kind is how a column's cells are written.
type Kind uint8

// Column kinds. A nil value, an empty string or the zero time leaves the cell empty.
const (
	Text     Kind = iota // a string
	Integer              // an int
	Decimal              // a float64, shown with two decimals
	Percent              // a float64 percentage (96.5 for 96.5%), shown 96.50%
	Date                 // a time.Time, shown 2026-11-20
	DateTime             // a time.Time, shown 2026-11-20 18:05
)

// Column is one column of a sheet.
type Column struct {
	Header string
	Kind   Kind
	// Wrap lets long text break into lines within the column's width.
	Wrap bool
}

// Sheet is one sheet of a workbook: its columns, and its rows as a stream.
type Sheet struct {
	// Name is the tab's name (at most 31 characters, none of []:*?/\).
	Name    string
	Columns []Column
	// Rows calls emit with each row in order, one value per column (time.Time
	// values in the configured zone), and returns emit's error, or its own.
	Rows func(emit func(row []any) error) error
}

// Workbook is what Write writes: every sheet under the same title row.
type Workbook struct {
	// Title heads each sheet, e.g. 高新区调度台账（2026年11月）.
	Title string
	// ExportedAt is stamped in the title row.
	ExportedAt time.Time
	Sheets     []Sheet
}

// Layout of each sheet.
const (
	titleRow  = 1
	headerRow = 2
	firstRow  = 3
	// sampleRows are held back to fit the column widths, which the stream
	// must know before its first row.
	sampleRows = 500
	minWidth   = 6
	maxWidth   = 60
	// maxRows is Excel's limit of rows in a sheet.
	maxRows = 1 << 20
)

// ErrTooManyRows is returned for a sheet longer than Excel takes.
var ErrTooManyRows = errors.New("export: more rows than an Excel sheet holds")

// Write writes the workbook as .xlsx to w.
func (wb *Workbook) Write(w io.Writer) error {
	if len(wb.Sheets) == 0 {
		return errors.New("export: a workbook needs a sheet")
	}
	f := excelize.NewFile()
	defer f.Close()
	st, err := newStyles(f)
	if err != nil {
		return err
	}
	for i, sh := range wb.Sheets {
		if i == 0 {
			err = f.SetSheetName(f.GetSheetName(0), sh.Name)
		} else {
			_, err = f.NewSheet(sh.Name)
		}
		if err != nil {
			return fmt.Errorf("export: sheet %s: %w", sh.Name, err)
		}
		if err := wb.writeSheet(f, st, sh); err != nil {
			return fmt.Errorf("export: sheet %s: %w", sh.Name, err)
		}
	}
	if err := f.Write(w); err != nil {
		return fmt.Errorf("export: write: %w", err)
	}
	return nil
}

// styles are the cell styles of a workbook.
type styles struct {
	title, header int
	byKind        map[Kind]int
	wrap          int
}

func newStyles(f *excelize.File) (*styles, error) {
	st := &styles{byKind: map[Kind]int{}}
	border := []excelize.Border{{Type: "bottom", Color: "999999", Style: 1}}
	defs := []struct {
		id *int
		s  *excelize.Style
	}{
		{&st.title, &excelize.Style{Font: &excelize.Font{Bold: true, Size: 14}, Alignment: &excelize.Alignment{Vertical: "center"}}},
		{&st.header, &excelize.Style{Font: &excelize.Font{Bold: true}, Border: border,
			Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"EDF2F9"}}, Alignment: &excelize.Alignment{Horizontal: "center", Vertical: "center", WrapText: true}}},
		{&st.wrap, &excelize.Style{Alignment: &excelize.Alignment{WrapText: true, Vertical: "top"}}},
	}
	for _, d := range defs {
		id, err := f.NewStyle(d.s)
		if err != nil {
			return nil, fmt.Errorf("export: style: %w", err)
		}
		*d.id = id
	}
	for kind, format := range map[Kind]string{Decimal: "0.00", Percent: "0.00%", Date: "yyyy-mm-dd", DateTime: "yyyy-mm-dd hh:mm"} {
		id, err := f.NewStyle(&excelize.Style{CustomNumFmt: &format, Alignment: &excelize.Alignment{Vertical: "top"}})
		if err != nil {
			return nil, fmt.Errorf("export: style: %w", err)
		}
		st.byKind[kind] = id
	}
	return st, nil
}

// writeSheet streams one sheet: the title row across every column, the
// header row frozen with it, then the rows, the first sampleRows of them held
// back to fit the widths.
func (wb *Workbook) writeSheet(f *excelize.File, st *styles, sh Sheet) error {
	sw, err := f.NewStreamWriter(sh.Name)
	if err != nil {
		return err
	}
	widths := make([]int, len(sh.Columns))
	for i, c := range sh.Columns {
		widths[i] = textWidth(c.Header)
	}
	var held [][]any
	n := 0
	started := false
	start := func() error {
		started = true
		for i, w := range widths {
			if err := sw.SetColWidth(i+1, i+1, float64(min(max(w+2, minWidth), maxWidth))); err != nil {
				return err
			}
		}
		if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: headerRow, TopLeftCell: cellName(1, firstRow), ActivePane: "bottomLeft"}); err != nil {
			return err
		}
		title := wb.Title + "　导出时间：" + wb.ExportedAt.Format("2006-01-02 15:04")
		if err := sw.SetRow(cellName(1, titleRow), []any{excelize.Cell{StyleID: st.title, Value: title}}, excelize.RowOpts{Height: 28}); err != nil {
			return err
		}
		if len(sh.Columns) > 1 {
			if err := sw.MergeCell(cellName(1, titleRow), cellName(len(sh.Columns), titleRow)); err != nil {
				return err
			}
		}
		header := make([]any, len(sh.Columns))
		for i, c := range sh.Columns {
			header[i] = excelize.Cell{StyleID: st.header, Value: c.Header}
		}
		if err := sw.SetRow(cellName(1, headerRow), header, excelize.RowOpts{Height: 22}); err != nil {
			return err
		}
		for _, row := range held {
			if err := wb.writeRow(sw, st, sh, firstRow+n, row); err != nil {
				return err
			}
			n++
		}
		held = nil
		return nil
	}
	err = sh.Rows(func(row []any) error {
		if len(row) != len(sh.Columns) {
			return fmt.Errorf("a row of %d values for %d columns", len(row), len(sh.Columns))
		}
		if started {
			r := firstRow + n
			if r > maxRows {
				return ErrTooManyRows
			}
			n++
			return wb.writeRow(sw, st, sh, r, row)
		}
		for i, v := range row {
			widths[i] = max(widths[i], cellWidth(sh.Columns[i].Kind, v))
		}
		held = append(held, row)
		if len(held) == sampleRows {
			return start()
		}
		return nil
	})
	if err != nil {
		return err
	}
	if !started {
		if err := start(); err != nil {
			return err
		}
	}
	return sw.Flush()
}

// writeRow writes one row of values at row r.
func (wb *Workbook) writeRow(sw *excelize.StreamWriter, st *styles, sh Sheet, r int, row []any) error {
	cells := make([]any, len(row))
	for i, v := range row {
		c, err := cellValue(sh.Columns[i], v)
		if err != nil {
			return fmt.Errorf("row %d, column %s: %w", r, sh.Columns[i].Header, err)
		}
		if c == nil {
			continue
		}
		style := st.byKind[sh.Columns[i].Kind]
		if sh.Columns[i].Wrap {
			style = st.wrap
		}
		if style != 0 {
			c = excelize.Cell{StyleID: style, Value: c}
		}
		cells[i] = c
	}
	return sw.SetRow(cellName(1, r), cells)
}

// cellValue converts v for a column of kind k: nil for an empty cell.
func cellValue(c Column, v any) (any, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case string:
		if x == "" {
			return nil, nil
		}
		if c.Kind != Text {
			return nil, fmt.Errorf("text %q in a %s column", x, kindName(c.Kind))
		}
		return x, nil
	case int:
		if c.Kind != Integer && c.Kind != Decimal {
			return nil, fmt.Errorf("an integer in a %s column", kindName(c.Kind))
		}
		return x, nil
	case float64:
		switch c.Kind {
		case Decimal:
			return x, nil
		case Percent:
			return x / 100, nil
		}
		return nil, fmt.Errorf("a number in a %s column", kindName(c.Kind))
	case time.Time:
		if x.IsZero() {
			return nil, nil
		}
		switch c.Kind {
		case Date:
			return math.Floor(excelTime(x)), nil
		case DateTime:
			return excelTime(x), nil
		}
		return nil, fmt.Errorf("a time in a %s column", kindName(c.Kind))
	}
	return nil, fmt.Errorf("unsupported value %T", v)
}

// excelEpoch is day 0 of Excel's 1900 date system, as it counts after
// February 1900.
var excelEpoch = time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC)

// excelTime is t's wall clock as an Excel serial date: Excel keeps no zone,
// so 18:05 in Shanghai is written 18:05.
func excelTime(t time.Time) float64 {
	wall := time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), 0, time.UTC)
	days := wall.Sub(excelEpoch).Hours() / 24
	return math.Round(days*86400) / 86400
}

// cellWidth is the width a value needs, in Excel's character units.
func cellWidth(k Kind, v any) int {
	switch x := v.(type) {
	case string:
		return textWidth(x)
	case int:
		return len(fmt.Sprint(x))
	case float64:
		if k == Percent {
			return 8
		}
		return len(fmt.Sprintf("%.2f", x))
	case time.Time:
		if k == Date {
			return 10
		}
		return 16
	}
	return 0
}

// textWidth counts a wide (CJK) character as two, any other as one, over
// the longest line of s.
func textWidth(s string) int {
	best, n := 0, 0
	for len(s) > 0 {
		r, size := utf8.DecodeRuneInString(s)
		s = s[size:]
		switch {
		case r == '\n':
			best, n = max(best, n), 0
		case r >= 0x1100 && (unicode.Is(unicode.Han, r) || r >= 0x3000 && r <= 0x30FF || r >= 0xFF00 && r <= 0xFFEF):
			n += 2
		default:
			n++
		}
	}
	return max(best, n)
}

func kindName(k Kind) string {
	return [...]string{"text", "integer", "decimal", "percent", "date", "date-time"}[k]
}

// cellName is the A1 name of a cell; column and row are 1-based and valid.
func cellName(col, row int) string {
	name, _ := excelize.CoordinatesToCellName(col, row)
	return name
}
