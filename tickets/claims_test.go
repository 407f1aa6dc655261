package tickets_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"yanzhen/models"
	"yanzhen/msg"
	"yanzhen/tickets"
)

// outbox records what the import would send.
type outbox struct{ sent []msg.Message }

func (o *outbox) Enqueue(_ context.Context, _ *models.Store, msgs ...msg.Message) (int, error) {
	o.sent = append(o.sent, msgs...)
	return len(msgs), nil
}

func TestImportSettlesClaimedDone(t *testing.T) {
	each(t, func(t *testing.T, s *models.Store, svc *tickets.Service) {
		out := &outbox{}
		svc.Outbox = out
		push := func(js string) string {
			t.Helper()
			sum, err := svc.ImportJSON(ctx, strings.NewReader(js), tickets.Origin{Route: models.ImportAPI, Actor: "import"})
			if err != nil {
				t.Fatal(err)
			}
			return sum.String()
		}
		rows := `[
			{"number": "C1", "received_at": "2026-11-16 09:00", "status": "办理中", "department": "住建局", "deadline": "2026-11-19 18:00", "title": "路灯不亮"},
			{"number": "C2", "received_at": "2026-11-16 09:00", "status": "办理中", "department": "住建局", "deadline": "2026-11-19 18:00", "title": "井盖缺失"},
			{"number": "C3", "received_at": "2026-11-16 09:00", "status": "办理中", "department": "住建局", "deadline": "2026-11-19 18:00", "title": "违建"}]`
		push(rows)
		claimedAt := now.Add(-2 * time.Hour)
		for _, n := range []string{"C1", "C2", "C3"} {
			if _, err := s.StepTicket(ctx, models.TicketStep{Number: n, Change: models.EventClaimed, Actor: "zhangsan", Text: "已处理", At: claimedAt}); err != nil {
				t.Fatal(err)
			}
		}
		due := func() []string {
			t.Helper()
			list, err := s.OpenTicketsDue(ctx, time.Time{}, now)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, tk := range list {
				out = append(out, tk.Number)
			}
			return out
		}
		if d := due(); len(d) != 0 {
			t.Fatalf("claimed tickets in the scan: %v", d)
		}

		// The same export again brings nothing new: every claim stands.
		if got := push(rows); got != "新增 0, 更新 0, 未变 3, 错误 0" {
			t.Errorf("same export: %s", got)
		}
		for _, n := range []string{"C1", "C2", "C3"} {
			if tk, _ := ticket(t, s, n); !tk.ClaimPending() {
				t.Errorf("%s: claim withdrawn by an export with nothing new", n)
			}
		}

		// C1 closed on the platform, C3 returned: both claims settled. C2
		// has news (reopened) and is still open: its claim is withdrawn.
		got := push(`[{"number": "C1", "status": "已办结", "resolved_at": "2026-11-20 17:00"},
			{"number": "C2", "status": "办理中", "reopen_count": 1},
			{"number": "C3", "status": "已退办"}]`)
		if got != "新增 0, 更新 3, 未变 0, 错误 0" {
			t.Errorf("settling export: %s", got)
		}
		for _, c := range []struct {
			number string
			status models.TicketStatus
			change models.TicketChange
		}{
			{"C1", models.TicketResolved, models.EventClaimConfirmed},
			{"C2", models.TicketInProgress, models.EventClaimReverted},
			{"C3", models.TicketReturned, models.EventClaimConfirmed},
		} {
			tk, events := ticket(t, s, c.number)
			if tk.ClaimPending() || tk.ClaimedBy != "" || tk.ClaimedResult != "" || tk.Status != c.status {
				t.Errorf("%s after the import: %+v", c.number, tk)
			}
			if i := slices.IndexFunc(events, func(e models.TicketEvent) bool { return e.Change == c.change }); i < 0 || events[i].To != string(c.status) || events[i].Actor != "import" {
				t.Errorf("%s: no %s event to %s in %+v", c.number, c.change, c.status, events)
			}
		}
		if d := due(); !slices.Equal(d, []string{"C2"}) {
			t.Errorf("scan after the import: %v, want C2 back", d)
		}
		if len(out.sent) != 1 {
			t.Fatalf("sent %d messages, want one to the claimant of C2: %+v", len(out.sent), out.sent)
		}
		m := out.sent[0]
		if !slices.Equal(m.To.Members, []string{"zhangsan"}) || m.DedupeKey == "" ||
			m.PlainText() != "【工单 C2】平台导入的最新数据仍为办理中，您11月20日 18:00报的办结已撤销，超期提醒恢复。请在12345平台办结后再回复“办结 C2 结果”。" {
			t.Errorf("message to the claimant %+v: %s", m.To, m.PlainText())
		}
	})
}
