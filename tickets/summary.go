package tickets

import (
	"fmt"
	"slices"

	"yanzhen/sheet"
)

// Summary is the outcome of an import. Its counts add up to the rows (or
// array items) read: each is created, updated, unchanged or failed.
type Summary struct {
	Created, Updated, Unchanged int
	// Failed counts the refused rows; Errors holds the first of them.
	Failed int
	Errors []*sheet.Error
}

// String is the summary line users see: 新增 N, 更新 M, 未变 U, 错误 E.
func (s *Summary) String() string {
	return fmt.Sprintf("新增 %d, 更新 %d, 未变 %d, 错误 %d", s.Created, s.Updated, s.Unchanged, s.Failed)
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
}
