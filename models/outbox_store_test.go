package models_test

import (
	"testing"
	"time"

	"yanzhen/models"
	"yanzhen/models/storetest"
)

// pickAll claims every head and records what the pass saw.
type pickAll struct {
	heads  []models.OutboxMessage
	recent []models.RecentSend
}

func (p *pickAll) pick(heads []models.OutboxMessage, recent []models.RecentSend) []uint {
	p.heads, p.recent = heads, recent
	var ids []uint
	for _, h := range heads {
		ids = append(ids, h.ID)
	}
	return ids
}

func TestClaimOutbox(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, storetest.Shanghai)
	storetest.EachWith(t, storetest.Options{Now: func() time.Time { return now }}, func(t *testing.T, s *models.Store) {
		msgs := append(rows("a1", "a2", "a3"), models.OutboxMessage{Channel: "robot", Kind: "text", Body: "r1"})
		for _, m := range msgs {
			if _, err := s.Enqueue(ctx, "", []models.OutboxMessage{m}); err != nil {
				t.Fatal(err)
			}
		}
		claim := func(worker string, at time.Time) ([]models.OutboxMessage, *pickAll) {
			t.Helper()
			p := &pickAll{}
			rows, err := s.ClaimOutbox(ctx, models.ClaimOptions{
				Worker: worker, Now: at, Lease: time.Minute, Since: at.Add(-time.Hour), Heads: 100, Pick: p.pick,
			})
			if err != nil {
				t.Fatal(err)
			}
			return rows, p
		}
		bodies := func(rows []models.OutboxMessage) (out []string) {
			for _, r := range rows {
				out = append(out, r.Body)
			}
			return out
		}

		rows, _ := claim("w1", now)
		if got := bodies(rows); len(got) != 2 || got[0] != "a1" || got[1] != "r1" {
			t.Fatalf("first pass claimed %v, want the head of each destination", got)
		}
		if rows[0].ClaimedBy != "w1" {
			t.Errorf("claimed_by = %q", rows[0].ClaimedBy)
		}
		// Another worker sees the heads but cannot take them, and counts them in flight.
		other, p := claim("w2", now)
		if len(other) != 0 || len(p.heads) != 2 || len(p.recent) != 2 {
			t.Fatalf("second worker claimed %v, saw %d heads and %d sends in flight", bodies(other), len(p.heads), len(p.recent))
		}

		a1, r1 := rows[0], rows[1]
		if ok, err := s.MarkOutboxSent(ctx, a1.ID, "w1", now); err != nil || !ok {
			t.Fatalf("mark sent: %v %v", ok, err)
		}
		if ok, err := s.MarkOutboxSent(ctx, r1.ID, "w2", now); err != nil || ok {
			t.Fatalf("a worker marked a row claimed by another (%v)", err)
		}
		if ok, err := s.RetryOutbox(ctx, r1.ID, "w1", "errcode -1", &models.OutboxBackoff{Destination: r1.Destination, Failures: 1, Until: now.Add(time.Minute)}); err != nil || !ok {
			t.Fatalf("retry: %v %v", ok, err)
		}

		rows, p = claim("w2", now)
		if got := bodies(rows); len(got) != 1 || got[0] != "a2" {
			t.Fatalf("after a1 sent and r1 held, claimed %v", got)
		}
		if len(p.recent) != 1 || p.recent[0].To != "zhangsan" || !p.recent[0].At.Equal(now) {
			t.Errorf("recent sends = %+v", p.recent)
		}
		// The claim of a worker that died runs out, and another takes the row.
		later := now.Add(2 * time.Minute)
		rows, _ = claim("w3", later)
		if got := bodies(rows); len(got) != 2 || got[0] != "a2" || got[1] != "r1" {
			t.Fatalf("after the lease, claimed %v", got)
		}
		if ok, err := s.MarkOutboxSent(ctx, rows[0].ID, "w2", later); err != nil || ok {
			t.Fatalf("a worker whose lease ran out marked the row (%v)", err)
		}
		if ok, err := s.FailOutbox(ctx, rows[0].ID, "w3", "errcode 81013", nil); err != nil || !ok {
			t.Fatalf("fail: %v %v", ok, err)
		}
		backlog, oldest, err := s.OutboxBacklog(ctx)
		if err != nil || backlog["app"] != 1 || backlog["robot"] != 1 || !oldest.Equal(now) {
			t.Errorf("backlog = %v oldest %v, %v", backlog, oldest, err)
		}
		rows, _ = claim("w3", later.Add(2*time.Minute))
		if got := bodies(rows); len(got) != 2 || got[0] != "a3" || got[1] != "r1" {
			t.Fatalf("after a2 failed, claimed %v", got)
		}
		var r1row models.OutboxMessage
		must(t, s.DB(ctx).Take(&r1row, r1.ID).Error)
		if r1row.Attempts != 1 || r1row.LastError != "errcode -1" {
			t.Errorf("r1 = attempts %d, last error %q", r1row.Attempts, r1row.LastError)
		}
	})
}

func TestOutboxBackoffHoldsTheDestinationNotTheRow(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, storetest.Shanghai)
	storetest.EachWith(t, storetest.Options{Now: func() time.Time { return now }}, func(t *testing.T, s *models.Store) {
		var msgs []models.OutboxMessage
		for _, body := range []string{"r1", "r2", "r3"} {
			msgs = append(msgs, models.OutboxMessage{Channel: "robot", Kind: "text", Body: body})
		}
		if _, err := s.Enqueue(ctx, "", msgs); err != nil {
			t.Fatal(err)
		}
		claim := func(at time.Time) ([]models.OutboxMessage, *pickAll) {
			t.Helper()
			p := &pickAll{}
			rows, err := s.ClaimOutbox(ctx, models.ClaimOptions{Worker: "w", Now: at, Lease: time.Minute, Since: at.Add(-time.Hour), Heads: 10, Pick: p.pick})
			if err != nil {
				t.Fatal(err)
			}
			return rows, p
		}
		rows, _ := claim(now)
		dest := rows[0].Destination
		// r1 fails for good, after a passing failure: the destination still waits.
		held := &models.OutboxBackoff{Destination: dest, Failures: 3, Until: now.Add(40 * time.Second)}
		if ok, err := s.FailOutbox(ctx, rows[0].ID, "w", "HTTP 502", held); err != nil || !ok {
			t.Fatalf("fail: %v %v", ok, err)
		}
		if n, err := s.OutboxFailures(ctx, dest); err != nil || n != 3 {
			t.Fatalf("failures = %d, %v", n, err)
		}
		rows, p := claim(now.Add(10 * time.Second))
		if len(rows) != 0 || len(p.heads) != 1 || p.heads[0].Body != "r2" || !p.heads[0].NextAttemptAt.Equal(held.Until) {
			t.Fatalf("during the backoff claimed %d rows; heads %+v", len(rows), p.heads)
		}
		// Its end lets r2 go; r2's success ends the backoff, and r3 is due at once.
		rows, _ = claim(held.Until)
		if len(rows) != 1 || rows[0].Body != "r2" {
			t.Fatalf("after the backoff claimed %+v", rows)
		}
		if ok, err := s.MarkOutboxSent(ctx, rows[0].ID, "w", held.Until); err != nil || !ok {
			t.Fatalf("mark sent: %v %v", ok, err)
		}
		if n, err := s.OutboxFailures(ctx, dest); err != nil || n != 0 {
			t.Fatalf("failures after a success = %d, %v", n, err)
		}
		rows, _ = claim(held.Until)
		if len(rows) != 1 || rows[0].Body != "r3" {
			t.Fatalf("after the success claimed %+v", rows)
		}
		// A worker whose claim was lost writes no backoff.
		if ok, err := s.RetryOutbox(ctx, rows[0].ID, "another", "errcode -1", &models.OutboxBackoff{Destination: dest, Failures: 1, Until: now.Add(time.Hour)}); err != nil || ok {
			t.Fatalf("retry by a worker without the claim: %v %v", ok, err)
		}
		if n, err := s.OutboxFailures(ctx, dest); err != nil || n != 0 {
			t.Fatalf("a lost claim wrote failures = %d, %v", n, err)
		}
	})
}
