package tickets

import (
	"cmp"
	"fmt"
	"slices"

	"yanzhen/models"
	"yanzhen/sheet"
)

// Summary is the outcome of an import. Its counts add up to the rows (or
// array items) read: each is created, updated, unchanged or failed.
type Summary struct {
	Created, Updated, Unchanged int
	// Failed counts the refused rows; Errors holds the first of them.
	Failed int
	Errors []*sheet.Error
	// Unknown are the unit names no department has (by name or alias), each
	// once with the number of rows that wrote it, most rows first.
	Unknown []UnknownName
	// Reopened are the tickets the import made 重办 (their reopen count went
	// up), DoubleNo those it made 双否件 (models.Ticket.DoubleNo); a ticket
	// new to the store counts when it arrives so.
	Reopened, DoubleNo Flags
}

// String is the summary line the CLI and the API show: 新增 N, 更新 M, 未变 U, 错误 E.
func (s *Summary) String() string { return s.text(", ") }

// text is the summary line with its parts sep apart: chat writes it with
// Chinese commas.
func (s *Summary) text(sep string) string {
	return fmt.Sprintf("新增 %d%s更新 %d%s未变 %d%s错误 %d", s.Created, sep, s.Updated, sep, s.Unchanged, sep, s.Failed)
}

// Landed is the number of rows written: created, updated or unchanged.
func (s *Summary) Landed() int { return s.Created + s.Updated + s.Unchanged }

func (s *Summary) refuse(e *sheet.Error, keep int) {
	s.Failed++
	if len(s.Errors) < keep {
		s.Errors = append(s.Errors, e)
	}
}

// merge adds the refusals of the reading (read) to the written rows' summary,
// keeping the first keep errors in row order.
func (s *Summary) merge(read *Summary, keep int) {
	s.Failed += read.Failed
	s.Errors = append(s.Errors, read.Errors...)
	slices.SortStableFunc(s.Errors, func(a, b *sheet.Error) int { return a.Row - b.Row })
	s.Errors = s.Errors[:min(len(s.Errors), keep)]
	s.Unknown = read.Unknown
}

// UnknownName is a unit name that no department has, with the column that
// wrote it and the number of rows.
type UnknownName struct {
	Column, Name string
	Rows         int
}

// String says it once for all its rows, with what to do about it.
func (u UnknownName) String() string {
	return fmt.Sprintf("%s“%s”未找到对应单位，共 %d 行未导入：如为已有单位的其他叫法，请在组织架构文件中为该单位添加别名（aliases），导入组织架构后再导入本文件",
		u.Column, u.Name, u.Rows)
}

// maxUnknownNames bounds the names an import tracks; rows naming further
// ones are still refused one by one.
const maxUnknownNames = 100

type unknownKey struct{ column, name string }

// unknownNames counts the rows that name each unknown unit.
type unknownNames map[unknownKey]int

func (u unknownNames) add(column, name string) {
	k := unknownKey{models.ClipRunes(column, maxText), models.ClipRunes(name, maxText)}
	if _, ok := u[k]; ok || len(u) < maxUnknownNames {
		u[k]++
	}
}

// list returns the names, most rows first.
func (u unknownNames) list() []UnknownName {
	var out []UnknownName
	for k, n := range u {
		out = append(out, UnknownName{Column: k.column, Name: k.name, Rows: n})
	}
	slices.SortFunc(out, func(a, b UnknownName) int {
		return cmp.Or(b.Rows-a.Rows, cmp.Compare(a.Column, b.Column), cmp.Compare(a.Name, b.Name))
	})
	return out
}
