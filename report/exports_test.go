package report_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"yanzhen/models"
	"yanzhen/models/storetest"
	"yanzhen/report"
)

// dispatches issues two dispatches of a leader on 20 November, and has
// 住建局 sign, feed back on and finish the first.
func (f *fixture) dispatches(t *testing.T) {
	t.Helper()
	leader, err := f.store.MemberByUserID(ctx, "wangwu")
	if err != nil {
		t.Fatal(err)
	}
	issue := func(when, text string, deadline string, targets ...*models.Department) *models.Dispatch {
		d := &models.Dispatch{IssuerID: leader.ID, Instruction: text, IssuedAt: at(when), Deadline: ptr(at(deadline)),
			TicketNumbers: models.StringList{"2026111000004"}}
		for _, dep := range targets {
			d.Targets = append(d.Targets, models.DispatchTarget{DepartmentID: &dep.ID})
		}
		if ok, err := f.store.CreateDispatch(ctx, d); err != nil || !ok {
			t.Fatalf("issue: %v %v", ok, err)
		}
		return d
	}
	d := issue("2026-11-20 09:00", "老旧小区外墙脱落，今天下班前排除险情并回复群众", "2026-11-20 18:00", &f.zjj, &f.hhjd)
	issue("2026-11-20 11:00", "占道经营整治方案", "2026-11-19 18:00", &f.cgj)
	for i, st := range []struct {
		kind       models.StepKind
		text, when string
	}{
		{models.StepSign, "", "2026-11-20 09:05"},
		{models.StepFeedback, "已拉设警戒线，联系施工队", "2026-11-20 11:30"},
		{models.StepDone, "外墙已修复，已回复群众", "2026-11-20 16:00"},
	} {
		if _, _, err := f.store.StepDispatch(ctx, models.DispatchStep{DispatchID: d.ID, Step: st.kind, TargetIDs: []uint{d.Targets[0].ID},
			Actor: "zhangsan", Text: st.text, At: at(st.when)}); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
}

// goldenWorkbook writes the export, reads it back as Excel would show it and
// compares every cell of every sheet with testdata/name.golden.
func goldenWorkbook(t *testing.T, name string, e *report.Export) *excelize.File {
	t.Helper()
	data, err := e.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	var b strings.Builder
	fmt.Fprintf(&b, "file: %s\n", e.FileName)
	for _, sheet := range f.GetSheetList() {
		rows, err := f.GetRows(sheet)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "== %s\n", sheet)
		for _, row := range rows {
			b.WriteString(strings.Join(row, " | ") + "\n")
		}
	}
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return f
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./report -update to create it)", err)
	}
	if got := b.String(); got != string(want) {
		t.Errorf("%s differs from %s (go test ./report -update rewrites it):\n%s", name, path, diff(string(want), got))
	}
	return f
}

func TestWorkbooksGolden(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		f := newFixture(t, s)
		f.dispatches(t)
		now := at("2026-11-20 18:30")
		nov := models.MonthOf(now, storetest.Shanghai, 1)
		export := func(kind report.ExportKind, p models.Period, unit *models.Department) *report.Export {
			t.Helper()
			e, err := f.builder.Export(ctx, report.ExportRequest{Kind: kind, Period: p, Unit: unit, Now: now})
			if err != nil {
				t.Fatal(err)
			}
			return e
		}
		ledger := goldenWorkbook(t, "export_ledger", export(report.ExportLedger, nov, nil))
		goldenWorkbook(t, "export_ledger_zjj", export(report.ExportLedger, nov, &f.zjj))
		goldenWorkbook(t, "export_overdue", export(report.ExportOverdue, models.Period{}, nil))
		goldenWorkbook(t, "export_ranking", export(report.ExportRanking, nov, nil))
		goldenWorkbook(t, "export_ranking_cgj", export(report.ExportRanking, nov, &f.cgj))
		goldenWorkbook(t, "export_reports", export(report.ExportReports, models.DaysOf(at("2026-11-16 00:00"), at("2026-11-30 00:00"), storetest.Shanghai), nil))

		// Times are dates to Excel, not text.
		for _, cell := range []string{"C3", "J3", "N3"} {
			raw, err := ledger.GetCellValue("调度台账", cell, excelize.Options{RawCellValue: true})
			if err != nil {
				t.Fatal(err)
			}
			var v float64
			if _, err := fmt.Sscan(raw, &v); err != nil || v < 46000 || v > 47000 {
				t.Errorf("%s holds %q, not a date", cell, raw)
			}
		}
		if _, err := f.builder.Export(ctx, report.ExportRequest{Kind: report.ExportLedger, Now: now}); err == nil {
			t.Error("a ledger without a period was exported")
		}
	})
}

func TestExportKinds(t *testing.T) {
	for name, want := range map[string]report.ExportKind{"台账": report.ExportLedger, "ledger": report.ExportLedger, "日报": report.ExportReports, "超期": report.ExportOverdue, "ranking": report.ExportRanking} {
		if got, ok := report.ExportKindOf(name); !ok || got != want {
			t.Errorf("%s: %v %v", name, got, ok)
		}
	}
	if _, ok := report.ExportKindOf("工单"); ok {
		t.Error("工单 is not a workbook")
	}
	if !slices.Equal(report.ExportWords(), []string{"台账", "超期", "排名", "日报"}) ||
		!slices.Equal(report.ExportKinds(), []string{"ledger", "overdue", "ranking", "reports"}) {
		t.Errorf("%s %s", report.ExportWords(), report.ExportKinds())
	}
}
