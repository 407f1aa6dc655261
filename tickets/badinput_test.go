package tickets_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"yanzhen/models"
	"yanzhen/tickets"
)

// count returns the number of stored tickets.
func count(t *testing.T, s *models.Store) int {
	t.Helper()
	var n int64
	if err := s.DB(ctx).Model(&models.Ticket{}).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return int(n)
}

// rowsReader yields a csv of n rows one row per Read, and calls hook once
// when it is about to yield row at.
type rowsReader struct {
	n, at, next int
	hook        func()
	pending     string
}

func (r *rowsReader) Read(p []byte) (int, error) {
	if r.pending == "" {
		switch {
		case r.next > r.n:
			return 0, io.EOF
		case r.next == 0:
			r.pending = "工单编号,受理时间,承办单位,标题\n"
		default:
			if r.next == r.at {
				r.hook()
			}
			r.pending = fmt.Sprintf("CX%05d,2026-11-20 09:00,住建局,%s\n", r.next, strings.Repeat("标题", 40))
		}
		r.next++
	}
	n := copy(p, r.pending)
	r.pending = r.pending[n:]
	return n, nil
}

func TestCancelledImportReturnsTheCancellation(t *testing.T) {
	// The import is cancelled when row 1500 of 2000 is read, once 500 rows
	// have landed: it must return the cancellation, not nil, with a summary
	// of exactly the rows that landed.
	each(t, func(t *testing.T, s *models.Store, svc *tickets.Service) {
		svc.BatchSize = 100
		for run := range 4 {
			if err := s.DB(ctx).Where("1 = 1").Delete(&models.TicketEvent{}).Error; err != nil {
				t.Fatal(err)
			}
			if err := s.DB(ctx).Where("1 = 1").Delete(&models.Ticket{}).Error; err != nil {
				t.Fatal(err)
			}
			cctx, cancel := context.WithCancel(ctx)
			hook := func() {
				for deadline := time.Now().Add(30 * time.Second); count(t, s) < 500; {
					if time.Now().After(deadline) {
						t.Error("500 rows never landed")
						break
					}
					time.Sleep(time.Millisecond) // waiting for the writer, not for a time to pass
				}
				cancel()
			}
			sum, err := svc.ImportFile(cctx, &rowsReader{n: 2000, at: 1500, hook: hook}, fromCLI("x.csv"))
			cancel()
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("run %d: err = %v, want the cancellation (summary %v)", run, err, sum)
			}
			if landed := count(t, s); sum == nil || sum.Landed() != landed || landed < 500 || landed >= 2000 || sum.Failed != 0 {
				t.Fatalf("run %d: summary %v, %d tickets stored", run, sum, landed)
			}
			if !strings.Contains(err.Error(), fmt.Sprintf("after %d rows written", sum.Landed())) {
				t.Errorf("run %d: err %q does not say how many rows were written", run, err)
			}
		}
	})
}

func TestEveryCSVRowImportedOrNamed(t *testing.T) {
	const head = "工单编号,受理时间,承办单位,标题\n"
	row := func(n int) string { return fmt.Sprintf("R%d,2026-11-20 09:00,住建局,标题%d", n, n) }
	for _, c := range []struct {
		name, text string
		created    int
		errors     []string
	}{
		{"cr line ends (old Mac)", strings.ReplaceAll(head, "\n", "\r") + row(1) + "\r" + row(2) + "\r" + row(3) + "\r" + row(4) + "\r", 4, nil},
		{"a lone cr among lf", head + row(1) + "\n" + row(2) + "\r" + row(3) + "\n" + row(4) + "\r\n", 4, nil},
		{"an unclosed quote", head + row(1) + "\n" + "R2,2026-11-20 09:00,住建局,\"未闭合\n" + row(3) + "\n" + row(4) + "\n" + row(5) + "\n", 4,
			[]string{"第 3 行：引号未闭合：本行未导入"}},
		{"a quote closed on a later line", head + "R1,2026-11-20 09:00,住建局,\"开始\n" + row(2) + "\n" + "R3,2026-11-20 09:00,住建局,\"x\"y\n" + row(4) + "\n", 3,
			[]string{"第 2 行：引号不成对：本行未导入"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			each(t, func(t *testing.T, s *models.Store, svc *tickets.Service) {
				sum, err := svc.ImportFile(ctx, strings.NewReader(c.text), fromCLI("x.csv"))
				if err != nil {
					t.Fatal(err)
				}
				rows := strings.Count(strings.ReplaceAll(strings.ReplaceAll(c.text, "\r\n", "\n"), "\r", "\n"), "\n") - 1
				if sum.Created != c.created || strings.Join(errorTexts(sum), "|") != strings.Join(c.errors, "|") ||
					sum.Created+sum.Updated+sum.Unchanged+sum.Failed != rows || count(t, s) != c.created {
					t.Errorf("summary %v %q for %d rows; %d stored", sum, errorTexts(sum), rows, count(t, s))
				}
			})
		})
	}
}

func TestUnitNamesWithTheDistrictPrefix(t *testing.T) {
	each(t, func(t *testing.T, s *models.Store, svc *tickets.Service) {
		for _, d := range []models.Department{
			{Code: "jyj", Name: "教育局", Sort: 5},
			{Code: "gxwjw", Name: "高新卫健委", Sort: 6}, {Code: "wjw", Name: "卫健委", Aliases: models.StringList{"区卫健委"}, Sort: 7},
		} {
			if _, err := s.UpsertDepartment(ctx, &d); err != nil {
				t.Fatal(err)
			}
		}
		svc.District = "高新区"
		text := "工单编号,受理时间,承办单位,被反映街乡镇\n" +
			"P1,2026-11-20 09:00,区教育局,\n" +
			"P2,2026-11-20 09:00,高新区教育局,区环海街道\n" +
			"P3,2026-11-20 09:00,高新区卫健委,\n" + // 卫健委 by its alias-free name; 高新卫健委 is another unit
			"P4,2026-11-20 09:00,市教育局,\n" +
			"P5,2026-11-20 09:00,市教育局,\n" +
			"P6,2026-11-20 09:00,市教育局,\n" +
			"P7,2026-11-20 09:00,住建局,高新区科创街道\n"
		sum, err := svc.ImportFile(ctx, strings.NewReader(text), fromCLI("x.csv"))
		if err != nil {
			t.Fatal(err)
		}
		if sum.String() != "新增 3, 更新 0, 未变 0, 错误 4" {
			t.Errorf("summary %v %q", sum, errorTexts(sum))
		}
		for number, want := range map[string]string{"P1": "教育局", "P2": "教育局", "P3": "卫健委"} {
			if tk, _ := ticket(t, s, number); tk.Department == nil || tk.Department.Name != want {
				t.Errorf("%s: department %+v, want %s", number, tk.Department, want)
			}
		}
		if tk, _ := ticket(t, s, "P2"); tk.GridDepartment == nil || tk.GridDepartment.Name != "环海街道" {
			t.Errorf("P2: grid %+v", tk.GridDepartment)
		}
		// The unknown names are summed up once each, most rows first.
		var unknown []string
		for _, u := range sum.Unknown {
			unknown = append(unknown, u.String())
		}
		want := []string{
			"承办单位“市教育局”未找到对应单位，共 3 行未导入：如为已有单位的其他叫法，请在组织架构文件中为该单位添加别名（aliases），导入组织架构后再导入本文件",
			"被反映街乡镇“高新区科创街道”未找到对应单位，共 1 行未导入：如为已有单位的其他叫法，请在组织架构文件中为该单位添加别名（aliases），导入组织架构后再导入本文件",
		}
		if strings.Join(unknown, "\n") != strings.Join(want, "\n") {
			t.Errorf("unknown:\n%s", strings.Join(unknown, "\n"))
		}
	})
}

func TestRefusalsQuoteCellsShort(t *testing.T) {
	// A refusal quotes at most 50 characters of a cell (49 and an ellipsis):
	// a thousand rows with a 1 MB date do not keep a gigabyte of errors.
	each(t, func(t *testing.T, s *models.Store, svc *tickets.Service) {
		text := "工单编号,受理时间\nL1," + strings.Repeat("九", 300000) + "\n"
		sum, err := svc.ImportFile(ctx, strings.NewReader(text), fromCLI("x.csv"))
		if err != nil {
			t.Fatal(err)
		}
		if want := `第 2 行 受理时间：无法识别的日期 "` + strings.Repeat("九", 49) + `…"`; strings.Join(errorTexts(sum), "|") != want {
			t.Errorf("errors %.200q", errorTexts(sum))
		}
	})
}
