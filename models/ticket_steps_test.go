package models_test

import (
	"strings"
	"testing"
	"time"

	"yanzhen/models"
	"yanzhen/models/storetest"
)

// alertsOf returns the levels of a ticket's alerts and whether each is acknowledged.
func alertsOf(t *testing.T, s *models.Store, id uint) map[models.AlertLevel]bool {
	t.Helper()
	got, err := s.AlertsOf(ctx, models.SubjectTicket, []uint{id})
	if err != nil {
		t.Fatal(err)
	}
	out := map[models.AlertLevel]bool{}
	for _, a := range got[id] {
		out[a.Level] = a.AckedAt != nil
	}
	return out
}

func fire(t *testing.T, s *models.Store, id uint, level models.AlertLevel, at time.Time) {
	t.Helper()
	if ok, err := s.FireAlert(ctx, &models.Alert{SubjectKind: models.SubjectTicket, SubjectID: id, Level: level, FirstSentAt: at, LastSentAt: at}); err != nil || !ok {
		t.Fatalf("fire %s: %v %v", level, ok, err)
	}
}

func TestTicketStepsAndTheLadder(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		zjj := models.Department{Code: "zjj", Name: "住建局"}
		mustCreate(t, s, &zjj)
		mustCreate(t, s, &models.Member{UserID: "zhangsan", Name: "张三", Role: models.RoleHead, DepartmentID: &zjj.ID, Active: true})
		at := storetest.At("2026-11-20 10:00")
		due := at.Add(-2 * time.Hour)
		tk := models.Ticket{Number: "2024112700123", Status: models.TicketPending, ReceivedAt: at.Add(-72 * time.Hour), Deadline: &due, DepartmentID: &zjj.ID}
		closed := models.Ticket{Number: "2024112700999", Status: models.TicketResolved, ReceivedAt: at, DepartmentID: &zjj.ID}
		mustCreate(t, s, &tk)
		mustCreate(t, s, &closed)
		fire(t, s, tk.ID, "warn", at.Add(-24*time.Hour))
		fire(t, s, tk.ID, "alert", at.Add(-2*time.Hour))

		// 签收 signs and stops the repeats; the ticket stays in the scan.
		got, err := s.StepTicket(ctx, models.TicketStep{Number: tk.Number, Change: models.EventSigned, Actor: "sunba", At: at})
		if err != nil || got.SignedAt == nil || !got.SignedAt.Equal(at) || got.Status != models.TicketPending {
			t.Fatalf("sign: %+v %v", got, err)
		}
		if a := alertsOf(t, s, tk.ID); !a["warn"] || !a["alert"] {
			t.Errorf("alerts after 签收: %v, want all acknowledged", a)
		}
		// A 反馈 in the same second changes nothing on the row but is no conflict (MySQL counts changed rows).
		if _, err := s.StepTicket(ctx, models.TicketStep{Number: tk.Number, Change: models.EventFeedback, Actor: "sunba", Text: "已派人", At: at}); err != nil {
			t.Errorf("feedback in the second of the sign: %v", err)
		}
		_, err = s.StepTicket(ctx, models.TicketStep{Number: tk.Number, Change: models.EventSigned, Actor: "zhangsan", At: at.Add(time.Hour)})
		if models.ErrorCode(err) != models.ECONFLICT || models.UserText(err) != "工单 2024112700123 已于11月20日 10:00签收，无需重复签收" {
			t.Errorf("second sign: %v", err)
		}
		// The next level fires and is acknowledged in turn by 反馈.
		fire(t, s, tk.ID, "urge", at.Add(2*time.Hour))
		if _, err := s.StepTicket(ctx, models.TicketStep{Number: tk.Number, Change: models.EventFeedback, Actor: "sunba", Text: "已联系群众", At: at.Add(3 * time.Hour)}); err != nil {
			t.Fatal(err)
		}
		if a := alertsOf(t, s, tk.ID); !a["urge"] {
			t.Errorf("alerts after 反馈: %v", a)
		}
		scan := func() []string {
			t.Helper()
			due, err := s.OpenTicketsDue(ctx, time.Time{}, at.Add(48*time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, d := range due {
				out = append(out, d.Number)
			}
			return out
		}
		if n := scan(); len(n) != 1 || n[0] != tk.Number {
			t.Errorf("scan before the claim: %v", n)
		}

		// 办结 claims the ticket done: out of the scan, further steps refused.
		got, err = s.StepTicket(ctx, models.TicketStep{Number: tk.Number, Change: models.EventClaimed, Actor: "zhangsan", Text: "已修复路灯", At: at.Add(4 * time.Hour)})
		if err != nil || !got.ClaimPending() || got.ClaimedBy != "zhangsan" || got.ClaimedResult != "已修复路灯" || got.StatusText() != models.ClaimedStatus {
			t.Fatalf("claim: %+v %v", got, err)
		}
		if n := scan(); len(n) != 0 {
			t.Errorf("scan after the claim: %v", n)
		}
		for _, c := range []models.TicketChange{models.EventSigned, models.EventFeedback, models.EventClaimed} {
			_, err := s.StepTicket(ctx, models.TicketStep{Number: tk.Number, Change: c, Actor: "sunba", Text: "再报", At: at.Add(5 * time.Hour)})
			if models.UserText(err) != "工单 2024112700123 已于11月20日 14:00由张三报办结，待平台确认" {
				t.Errorf("%s after the claim: %v", c, err)
			}
		}
		_, err = s.StepTicket(ctx, models.TicketStep{Number: closed.Number, Change: models.EventClaimed, Actor: "sunba", Text: "x", At: at})
		if models.ErrorCode(err) != models.EINVALID || models.UserText(err) != "工单 2024112700999 已办结，无需再报办结" {
			t.Errorf("claim of a closed ticket: %v", err)
		}
		if _, err := s.StepTicket(ctx, models.TicketStep{Number: "404", Change: models.EventSigned, At: at}); models.ErrorCode(err) != models.ENOTFOUND {
			t.Errorf("unknown ticket: %v", err)
		}

		_, events, err := s.TicketByNumber(ctx, tk.Number)
		if err != nil {
			t.Fatal(err)
		}
		var trail []string
		for _, e := range events {
			trail = append(trail, string(e.Change)+":"+e.Actor+":"+e.Reason)
		}
		want := "signed:sunba: feedback:sunba:已派人 feedback:sunba:已联系群众 claimed:zhangsan:已修复路灯"
		if got := strings.Join(trail, " "); got != want {
			t.Errorf("events %s, want %s", got, want)
		}
	})
}

func TestClearAlerts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		at := storetest.At("2026-11-20 10:00")
		for _, l := range []models.AlertLevel{"warn", "alert", "urge"} {
			fire(t, s, 7, l, at)
		}
		fire(t, s, 8, "urge", at)
		n, err := s.ClearAlerts(ctx, models.SubjectTicket, 7, []models.AlertLevel{"alert", "urge", "blacklist"})
		if err != nil || n != 2 {
			t.Fatalf("ClearAlerts = %d %v", n, err)
		}
		if a := alertsOf(t, s, 7); len(a) != 1 {
			t.Errorf("left %v, want warn only", a)
		}
		if a := alertsOf(t, s, 8); len(a) != 1 {
			t.Errorf("another ticket's alert cleared: %v", a)
		}
		// Cleared, a level fires afresh.
		fire(t, s, 7, "alert", at.Add(time.Hour))
		if n, err := s.ClearAlerts(ctx, models.SubjectTicket, 7, nil); err != nil || n != 0 {
			t.Errorf("no levels: %d %v", n, err)
		}
	})
}

func TestExtensionChain(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		zjj := models.Department{Code: "zjj", Name: "住建局"}
		hh := models.Department{Code: "hhjd", Name: "环海街道", Tier: models.TierStreet}
		for _, d := range []*models.Department{&zjj, &hh} {
			mustCreate(t, s, d)
		}
		at := storetest.At("2026-11-20 10:00")
		due, later := storetest.At("2026-11-25 18:00"), storetest.At("2026-12-04 18:00")
		tk := models.Ticket{Number: "2024112700123", Status: models.TicketInProgress, ReceivedAt: at, Deadline: &due,
			DeadlineSource: models.DeadlinePlatform, DepartmentID: &zjj.ID, GridDepartmentID: &hh.ID}
		mustCreate(t, s, &tk)
		apply := models.TicketApplication{Kind: models.RequestKindExtension, Number: tk.Number, DepartmentIDs: []uint{zjj.ID},
			By: "sunba", Reason: "需协调供电公司", ExtendTo: &later, At: at}
		early := storetest.At("2026-11-25 18:00")
		for _, c := range []struct {
			name string
			a    func(a models.TicketApplication) models.TicketApplication
			want string
		}{
			{"no reason", func(a models.TicketApplication) models.TicketApplication { a.Reason = ""; return a }, "请说明延期理由"},
			{"no date", func(a models.TicketApplication) models.TicketApplication { a.ExtendTo = nil; return a }, "请写明延期后的期限"},
			{"not later", func(a models.TicketApplication) models.TicketApplication { a.ExtendTo = &early; return a },
				"延期后的期限须晚于原期限 2026-11-25 18:00"},
			{"the grid", func(a models.TicketApplication) models.TicketApplication { a.DepartmentIDs = []uint{hh.ID}; return a },
				"工单 2024112700123 不是本单位承办的工单，不能申请延期"},
		} {
			if _, err := s.SubmitRequest(ctx, c.a(apply)); models.UserText(err) != c.want {
				t.Errorf("%s: %v, want %s", c.name, err, c.want)
			}
		}
		req, err := s.SubmitRequest(ctx, apply)
		if err != nil || req.Kind != models.RequestKindExtension || req.State != models.RequestPendingHead || !req.ExtendTo.Equal(later) {
			t.Fatalf("request: %+v %v", req, err)
		}
		if _, err := s.SubmitRequest(ctx, apply); models.UserText(err) != "工单 2024112700123 已有延期申请在审批中" {
			t.Errorf("second request: %v", err)
		}
		// A 退办 of the same ticket is a request of its own kind.
		ret := models.TicketApplication{Kind: models.RequestKindReturn, Number: tk.Number, DepartmentIDs: []uint{hh.ID}, By: "zhaoliu", Reason: "非本街道", At: at}
		if _, err := s.SubmitRequest(ctx, ret); err != nil {
			t.Fatalf("return beside an extension: %v", err)
		}
		if got, err := s.PendingRequests(ctx, "", models.RequestPendingHead); err != nil || len(got) != 2 {
			t.Errorf("pending of every kind: %d %v", len(got), err)
		}
		if got, err := s.PendingRequests(ctx, models.RequestKindExtension, models.RequestPendingHead, zjj.ID); err != nil || len(got) != 1 || got[0].ID != req.ID {
			t.Errorf("pending extensions: %+v %v", got, err)
		}
		if got, err := s.PendingRequest(ctx, models.RequestKindExtension, tk.Number); err != nil || got.ID != req.ID {
			t.Errorf("PendingRequest = %+v %v", got, err)
		}

		if _, err := s.DecideRequest(ctx, models.RequestDecision{ID: req.ID, State: models.RequestPendingHead, Approve: true, By: "zhangsan", At: at.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		if tk, _, err := s.TicketByNumber(ctx, tk.Number); err != nil || !tk.Deadline.Equal(due) {
			t.Fatalf("deadline moved before the leader approved: %+v %v", tk, err)
		}
		got, err := s.DecideRequest(ctx, models.RequestDecision{ID: req.ID, State: models.RequestPendingLeader, Approve: true, By: "wangwu", At: at.Add(2 * time.Hour)})
		if err != nil || got.State != models.RequestApproved || !got.Ticket.Deadline.Equal(later) {
			t.Fatalf("leader approval: %+v %v", got, err)
		}
		stored, events, err := s.TicketByNumber(ctx, tk.Number)
		if err != nil || !stored.Deadline.Equal(later) || stored.DeadlineSource != models.DeadlineExtension {
			t.Fatalf("ticket after approval: %+v %v", stored, err)
		}
		var trail []string
		for _, e := range events {
			trail = append(trail, string(e.Change)+":"+e.Actor+":"+e.To)
		}
		want := "extension_requested:sunba:2026-12-04 18:00 return_requested:zhaoliu: extension_reviewed:zhangsan: extension:wangwu:2026-12-04 18:00"
		if strings.Join(trail, " ") != want {
			t.Errorf("events %s, want %s", strings.Join(trail, " "), want)
		}

		// An approval that no longer fits (the platform moved the deadline past the one asked for) is refused.
		again := apply
		nearer := storetest.At("2026-12-10 18:00")
		again.ExtendTo = &nearer
		req2, err := s.SubmitRequest(ctx, again)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.ExtendTicket(ctx, tk.Number, storetest.At("2026-12-20 18:00"), "平台延期", "import"); err != nil {
			t.Fatal(err)
		}
		head := models.RequestDecision{ID: req2.ID, State: models.RequestPendingHead, Approve: true, By: "zhangsan", At: at}
		if _, err := s.DecideRequest(ctx, head); err != nil {
			t.Fatal(err)
		}
		_, err = s.DecideRequest(ctx, models.RequestDecision{ID: req2.ID, State: models.RequestPendingLeader, Approve: true, By: "wangwu", At: at})
		if models.UserText(err) != "延期后的期限须晚于原期限 2026-12-20 18:00" {
			t.Errorf("stale approval: %v", err)
		}
		if got, err := s.PendingRequest(ctx, models.RequestKindExtension, tk.Number); err != nil || got.State != models.RequestPendingLeader {
			t.Errorf("a refused approval changed the request: %+v %v", got, err)
		}
	})
}
