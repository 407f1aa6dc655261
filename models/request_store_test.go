package models_test

import (
	"testing"
	"time"

	"yanzhen/models"
	"yanzhen/models/storetest"
)

func TestReturnChain(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		zjj := models.Department{Code: "zjj", Name: "住建局"}
		hh := models.Department{Code: "hhjd", Name: "环海街道", Tier: models.TierStreet}
		cgj := models.Department{Code: "cgj", Name: "城管局"}
		for _, d := range []*models.Department{&zjj, &hh, &cgj} {
			mustCreate(t, s, d)
		}
		at := storetest.At("2026-11-20 10:00")
		ticket := models.Ticket{Number: "2024112700123", Status: models.TicketInProgress, ReceivedAt: at,
			DepartmentID: &zjj.ID, GridDepartmentID: &hh.ID}
		closed := models.Ticket{Number: "2024112700999", Status: models.TicketResolved, ReceivedAt: at, DepartmentID: &zjj.ID}
		mustCreate(t, s, &ticket)
		mustCreate(t, s, &closed)

		apply := models.TicketApplication{Kind: models.RequestKindReturn, Number: ticket.Number, DepartmentIDs: []uint{hh.ID}, By: "lisi", Reason: " 不属于本街道职责 ", At: at}
		refusals := []struct {
			name string
			a    func(a models.TicketApplication) models.TicketApplication
			want string
		}{
			{"no reason", func(a models.TicketApplication) models.TicketApplication { a.Reason = " "; return a }, "请说明退办理由"},
			{"unknown ticket", func(a models.TicketApplication) models.TicketApplication { a.Number = "1"; return a }, "未找到工单 1"},
			{"closed ticket", func(a models.TicketApplication) models.TicketApplication {
				a.Number = closed.Number
				a.DepartmentIDs = []uint{zjj.ID}
				return a
			},
				"工单 2024112700999 已办结，不能申请退办"},
			{"other department", func(a models.TicketApplication) models.TicketApplication { a.DepartmentIDs = []uint{cgj.ID}; return a },
				"工单 2024112700123 不是本单位承办的工单，不能申请退办"},
		}
		for _, c := range refusals {
			if _, err := s.SubmitRequest(ctx, c.a(apply)); models.UserText(err) != c.want {
				t.Errorf("%s: %v, want %s", c.name, err, c.want)
			}
		}

		// The grid's handler applies; the grid's head reviews.
		req, err := s.SubmitRequest(ctx, apply)
		if err != nil || req.State != models.RequestPendingHead || req.DepartmentID != hh.ID || req.Reason != "不属于本街道职责" || req.Ticket.Number != ticket.Number {
			t.Fatalf("request: %+v %v", req, err)
		}
		if _, err := s.SubmitRequest(ctx, apply); models.ErrorCode(err) != models.ECONFLICT {
			t.Errorf("second request: %v", err)
		}
		if got, err := s.PendingRequest(ctx, models.RequestKindReturn, ticket.Number); err != nil || got.ID != req.ID || got.Ticket.Number != ticket.Number {
			t.Errorf("PendingRequest = %+v %v", got, err)
		}
		if got, err := s.PendingRequests(ctx, models.RequestKindReturn, models.RequestPendingHead, zjj.ID); err != nil || len(got) != 0 {
			t.Errorf("pending for another department: %+v (%v)", got, err)
		}
		if got, err := s.PendingRequests(ctx, models.RequestKindReturn, models.RequestPendingHead, hh.ID); err != nil || len(got) != 1 {
			t.Errorf("pending for the grid: %+v (%v)", got, err)
		}
		// A leader cannot decide before the head.
		if _, err := s.DecideRequest(ctx, models.RequestDecision{ID: req.ID, State: models.RequestPendingLeader, Approve: true, By: "wangwu", At: at}); models.ErrorCode(err) != models.ECONFLICT {
			t.Errorf("leader before head: %v", err)
		}
		got, err := s.DecideRequest(ctx, models.RequestDecision{ID: req.ID, State: models.RequestPendingHead, Approve: true, By: "zhaoliu", Note: "属实", At: at.Add(time.Hour)})
		if err != nil || got.State != models.RequestPendingLeader || got.HeadBy != "zhaoliu" || got.HeadAt == nil {
			t.Fatalf("head approval: %+v %v", got, err)
		}
		if tk, _, err := s.TicketByNumber(ctx, ticket.Number); err != nil {
			t.Fatal(err)
		} else if tk.Status != models.TicketInProgress {
			t.Errorf("ticket returned before the leader approved: %s", tk.Status)
		}
		got, err = s.DecideRequest(ctx, models.RequestDecision{ID: req.ID, State: models.RequestPendingLeader, Approve: true, By: "wangwu", At: at.Add(2 * time.Hour)})
		if err != nil || got.State != models.RequestApproved || got.LeaderBy != "wangwu" {
			t.Fatalf("leader approval: %+v %v", got, err)
		}
		tk, events, err := s.TicketByNumber(ctx, ticket.Number)
		if err != nil || tk.Status != models.TicketReturned {
			t.Fatalf("ticket after approval: %+v %v", tk, err)
		}
		var kinds []models.TicketChange
		for _, e := range events {
			kinds = append(kinds, e.Change)
		}
		want := []models.TicketChange{models.EventReturnRequested, models.EventReturnReviewed, models.EventStatus}
		if len(kinds) != 3 || kinds[0] != want[0] || kinds[1] != want[1] || kinds[2] != want[2] {
			t.Fatalf("events %v, want %v", kinds, want)
		}
		if e := events[2]; e.From != string(models.TicketInProgress) || e.To != string(models.TicketReturned) || e.Actor != "wangwu" || e.Reason != "退办：不属于本街道职责" {
			t.Errorf("status event %+v", e)
		}
		if _, err := s.PendingRequest(ctx, models.RequestKindReturn, ticket.Number); models.ErrorCode(err) != models.ENOTFOUND {
			t.Errorf("pending after approval: %v", err)
		}
	})
}

func TestReturnRejectedAndHeadApplies(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		zjj := models.Department{Code: "zjj", Name: "住建局"}
		mustCreate(t, s, &zjj)
		at := storetest.At("2026-11-20 10:00")
		ticket := models.Ticket{Number: "BJ2024112700123", Status: models.TicketPending, ReceivedAt: at, DepartmentID: &zjj.ID}
		mustCreate(t, s, &ticket)
		apply := models.TicketApplication{Kind: models.RequestKindReturn, Number: ticket.Number, DepartmentIDs: []uint{zjj.ID}, By: "zhangsan", Reason: "非本部门职责", At: at, Heads: []uint{zjj.ID}}
		req, err := s.SubmitRequest(ctx, apply)
		if err != nil || req.State != models.RequestPendingLeader || req.HeadBy != "zhangsan" {
			t.Fatalf("head's own request: %+v %v", req, err)
		}
		got, err := s.DecideRequest(ctx, models.RequestDecision{ID: req.ID, State: models.RequestPendingLeader, By: "wangwu", Note: "请继续办理", At: at})
		if err != nil || got.State != models.RequestRejected || got.LeaderNote != "请继续办理" {
			t.Fatalf("rejection: %+v %v", got, err)
		}
		if tk, _, err := s.TicketByNumber(ctx, ticket.Number); err != nil {
			t.Fatal(err)
		} else if tk.Status != models.TicketPending {
			t.Errorf("rejected request changed the ticket: %s", tk.Status)
		}
		// Rejected, the ticket may be asked for again.
		if _, err := s.SubmitRequest(ctx, apply); err != nil {
			t.Errorf("request after rejection: %v", err)
		}
	})
}
