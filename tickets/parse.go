package tickets

import (
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"

	"yanzhen/calendar"
	"yanzhen/models"
	"yanzhen/sheet"
)

// input is one row, parsed and normalised. Empty strings and nil pointers are
// values the row does not give: they leave the stored ones as they are.
type input struct {
	num                                               int
	number                                            string
	source                                            models.TicketSource
	status                                            models.TicketStatus
	category, title, content, address                 string
	satisfaction                                      models.Satisfaction
	departmentID, gridID                              *uint
	received                                          time.Time
	deadline                                          *time.Time
	limit                                             *calendar.Limit
	signed, resolvedAt, visited, reopened             *time.Time
	contacted, resolved, assessed, excluded, priority *bool
	difficult                                         *bool
	reopenCount                                       *int
	receivedColumn                                    string
}

// size is about the memory an input holds, for bounding a batch.
func (in *input) size() int {
	return 256 + len(in.number) + len(in.source) + len(in.status) + len(in.category) + len(in.title) +
		len(in.content) + len(in.address) + len(in.satisfaction) + len(in.receivedColumn)
}

// Column sizes in characters (the MySQL columns; SQLite has no limit).
const (
	maxNumber   = 64
	maxCategory = 32
	maxText     = 255
	maxContent  = 16000 // a MySQL TEXT holds 65,535 bytes
)

// maxQuoted is how much of a cell a refusal quotes.
const maxQuoted = 50

// rowParser turns records into inputs against the organisation, and counts
// the unit names it does not know. One goroutine uses it.
type rowParser struct {
	s       *Service
	dir     *models.Directory
	loc     *time.Location
	unknown unknownNames
}

// cells are the fields of one record, and the row number its problems name.
type cells struct {
	rec record
	num int
}

func (c cells) get(field string) string { return c.rec.Get(field) }

// fail is the refusal of the record for its cell of field.
func (c cells) fail(field, format string, args ...any) *sheet.Error {
	return &sheet.Error{Row: c.num, Column: c.rec.Column(field), Reason: fmt.Sprintf(format, args...)}
}

// quote writes a cell's text for a refusal, cut to maxQuoted characters.
func quote(v string) string { return strconv.Quote(models.ClipRunes(v, maxQuoted)) }

// parse reads one record into an input, or returns the first problem with
// it: each step reads some fields, in the order of the steps.
func (p *rowParser) parse(num int, rec record) (*input, *sheet.Error) {
	c := cells{rec: rec, num: num}
	in := &input{num: num, receivedColumn: rec.Column(FieldReceivedAt)}
	steps := []func(*input, cells) *sheet.Error{p.number, p.times, p.units, p.flags, p.deadline, p.status, p.satisfaction, p.reopenCount}
	for _, step := range steps {
		if err := step(in, c); err != nil {
			return nil, err
		}
	}
	in.source = NormSource(c.get(FieldSource))
	in.category = fitChars(NormCategory(c.get(FieldCategory)), maxCategory)
	in.title = fitChars(c.get(FieldTitle), maxText)
	in.address = fitChars(c.get(FieldAddress), maxText)
	in.content = fitChars(c.get(FieldContent), maxContent)
	return in, nil
}

func (p *rowParser) number(in *input, c cells) *sheet.Error {
	in.number = sheet.NumberText(c.get(FieldNumber))
	switch {
	case in.number == "":
		return c.fail(FieldNumber, "不能为空")
	case utf8.RuneCountInString(in.number) > maxNumber:
		return c.fail(FieldNumber, "超过 %d 个字符", maxNumber)
	}
	return nil
}

// times reads the receipt and the other times of the ticket's course.
func (p *rowParser) times(in *input, c cells) *sheet.Error {
	received, err := p.time(c, FieldReceivedAt)
	if err != nil {
		return err
	}
	if received != nil {
		in.received = *received
	}
	for _, f := range []struct {
		field string
		dst   **time.Time
	}{
		{FieldSignedAt, &in.signed}, {FieldResolvedAt, &in.resolvedAt}, {FieldVisitedAt, &in.visited}, {FieldReopenedAt, &in.reopened},
	} {
		if *f.dst, err = p.time(c, f.field); err != nil {
			return err
		}
	}
	return nil
}

// time reads a date or time cell; an empty one is nil.
func (p *rowParser) time(c cells, field string) (*time.Time, *sheet.Error) {
	v := c.get(field)
	if v == "" {
		return nil, nil
	}
	t, err := sheet.ParseTime(v, p.loc)
	if err != nil || t.Year() < 2000 || t.Year() > 2200 {
		return nil, c.fail(field, "无法识别的日期 %s", quote(v))
	}
	return &t, nil
}

// units finds the department and the grid (street) by name or alias.
func (p *rowParser) units(in *input, c cells) *sheet.Error {
	var err *sheet.Error
	if in.departmentID, err = p.unit(c, FieldDepartment); err != nil {
		return err
	}
	in.gridID, err = p.unit(c, FieldGrid)
	return err
}

func (p *rowParser) unit(c cells, field string) (*uint, *sheet.Error) {
	name := c.get(field)
	if name == "" {
		return nil, nil
	}
	switch found := p.dir.FindDepartmentsIn(p.s.District, name); len(found) {
	case 1:
		return &found[0].ID, nil
	case 0:
		p.unknown.add(c.rec.Column(field), name)
		return nil, c.fail(field, "未知的部门 %s", quote(name))
	}
	return nil, c.fail(field, "部门名称 %s 对应多个部门", quote(name))
}

// flags reads the yes/no cells.
func (p *rowParser) flags(in *input, c cells) *sheet.Error {
	for _, f := range []struct {
		field string
		dst   **bool
	}{
		{FieldContacted, &in.contacted}, {FieldResolved, &in.resolved}, {FieldAssessed, &in.assessed},
		{FieldExcluded, &in.excluded}, {FieldPriority, &in.priority}, {FieldDifficult, &in.difficult},
	} {
		v := c.get(f.field)
		b, err := sheet.ParseBool(v)
		if err != nil {
			return c.fail(f.field, "无法识别的是否值 %s", quote(v))
		}
		*f.dst = b
	}
	return nil
}

// deadline reads the platform's deadline: a time (a date alone means the
// off-work time that day) or a time limit (5个工作日) from the receipt.
func (p *rowParser) deadline(in *input, c cells) *sheet.Error {
	v := c.get(FieldDeadline)
	if v == "" {
		return nil
	}
	if t, err := sheet.ParseTime(v, p.loc); err == nil {
		if sheet.DateOnly(v) {
			t = p.s.Rules.OffWork.On(t)
		}
		in.deadline = &t
		return nil
	}
	l, err := ParseLimit(v)
	if err != nil {
		return c.fail(FieldDeadline, "无法识别的日期或时限 %s", quote(v))
	}
	in.limit = &l
	return nil
}

func (p *rowParser) status(in *input, c cells) *sheet.Error {
	v := c.get(FieldStatus)
	if v == "" {
		return nil
	}
	st, ok := NormStatus(v)
	if !ok {
		return c.fail(FieldStatus, "无法识别的状态 %s", quote(v))
	}
	in.status = st
	return nil
}

func (p *rowParser) satisfaction(in *input, c cells) *sheet.Error {
	v := c.get(FieldSatisfaction)
	if v == "" {
		return nil
	}
	sat, ok := NormSatisfaction(v)
	if !ok {
		return c.fail(FieldSatisfaction, "无法识别的评价 %s，应为满意、基本满意或不满意", quote(v))
	}
	in.satisfaction = sat // "" for an answer that means none, like an empty cell
	return nil
}

func (p *rowParser) reopenCount(in *input, c cells) *sheet.Error {
	v := c.get(FieldReopenCount)
	if v == "" {
		return nil
	}
	n, err := sheet.ParseInt(v)
	if err != nil || n < 0 {
		return c.fail(FieldReopenCount, "应为非负整数，而非 %s", quote(v))
	}
	in.reopenCount = &n
	return nil
}

// fitChars cuts s, unmarked, to the n characters a column of that size holds.
func fitChars(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}
