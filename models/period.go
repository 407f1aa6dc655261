package models

import (
	"fmt"
	"time"
)

// More kinds of period, for rankings and exports.
const (
	// PeriodQuarter is three assessment months, the first of them starting a
	// calendar quarter (January, April, July, October).
	PeriodQuarter PeriodKind = "quarter"
	// PeriodSpan is any run of whole days, as an export asks for.
	PeriodSpan PeriodKind = "span"
	// PeriodYear is twelve assessment months, the first of them named for
	// January.
	PeriodYear PeriodKind = "year"
)

// QuarterOf returns the quarter of t in loc: the three assessment months
// (see MonthOf) of the calendar quarter their first month is named for.
func QuarterOf(t time.Time, loc *time.Location, startDay int) Period {
	m := MonthOf(t, loc, startDay)
	named := m.End.AddDate(0, 0, -1) // a month is named for the month it ends in
	back := (int(named.Month()) - 1) % 3
	start := m.Start.AddDate(0, -back, 0)
	return Period{Kind: PeriodQuarter, Start: start, End: start.AddDate(0, 3, 0)}
}

// YearOf returns the assessment year of t in loc: the twelve assessment
// months (see MonthOf) from the one named for January.
func YearOf(t time.Time, loc *time.Location, startDay int) Period {
	m := MonthOf(t, loc, startDay)
	named := m.End.AddDate(0, 0, -1)
	start := m.Start.AddDate(0, -(int(named.Month()) - 1), 0)
	return Period{Kind: PeriodYear, Start: start, End: start.AddDate(1, 0, 0)}
}

// yearLabel names a year: 2026年, with its days when its months do not
// start on the 1st.
func yearLabel(p Period) string {
	last := p.End.AddDate(0, 0, -1)
	label := fmt.Sprintf("%d年", last.Year())
	if p.Start.Day() != 1 {
		label += "（" + p.Start.Format("2006年1月2日") + "至" + last.Format("2006年1月2日") + "）"
	}
	return label
}

// DaysOf returns the whole days from the date of from to the date of to,
// both included, in loc.
func DaysOf(from, to time.Time, loc *time.Location) Period {
	return Period{Kind: PeriodSpan, Start: DayOf(from, loc).Start, End: DayOf(to, loc).End}
}

var quarterNames = [...]string{"一", "二", "三", "四"}

// quarterLabel names a quarter: 2026年第四季度, with its days when its
// months do not start on the 1st.
func quarterLabel(p Period) string {
	last := p.End.AddDate(0, 0, -1)
	label := fmt.Sprintf("%d年第%s季度", last.Year(), quarterNames[(int(last.Month())-1)/3])
	if p.Start.Day() != 1 {
		label += "（" + p.Start.Format("1月2日") + "至" + last.Format("1月2日") + "）"
	}
	return label
}
