package models_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"yanzhen/models"
	"yanzhen/models/storetest"
)

var inboundT0 = time.Date(2026, 3, 2, 9, 0, 0, 0, storetest.Shanghai)

func TestInboundLifecycle(t *testing.T) {
	storetest.EachWith(t, storetest.Options{Now: func() time.Time { return inboundT0 }}, testInboundLifecycle)
	// MySQL has no INSERT … RETURNING: the batch's count of rows tells.
	// (SQLite's last row ID is the batch's last, so that way is MySQL's
	// alone.)
	t.Run("mysql-without-returning", func(t *testing.T) {
		s := storetest.Open(t, models.DriverMySQL, storetest.Options{Now: func() time.Time { return inboundT0 }})
		models.WithoutReturning(s)
		testInboundLifecycle(t, s)
	})
}

func testInboundLifecycle(t *testing.T, s *models.Store) {
	{
		now := inboundT0
		lease := now.Add(time.Minute)
		msg := func(id string) *models.Inbound {
			// The receiver stores a message with its first attempt claimed.
			return &models.Inbound{Route: models.RouteRobot, MsgID: id, Text: "日报", FromName: strings.Repeat("名", 40),
				ReceivedAt: now, Attempts: 1, ClaimedUntil: &lease}
		}
		batch := []*models.Inbound{msg("a"), msg("b"), msg("a")}
		fresh, err := s.StoreInbound(ctx, batch)
		if err != nil {
			t.Fatal(err)
		}
		if !fresh[0] || !fresh[1] || fresh[2] || batch[0].ID == 0 || batch[1].ID == 0 || batch[2].ID != 0 {
			t.Fatalf("fresh = %v, ids %d %d %d", fresh, batch[0].ID, batch[1].ID, batch[2].ID)
		}
		if len(batch[0].FromName) > 64 {
			t.Errorf("name not cut to its column: %d bytes", len(batch[0].FromName))
		}
		a, b := batch[0], batch[1]
		// A repeat of a stored message is left out, and the new one beside
		// it stored all the same.
		c := msg("c")
		again, err := s.StoreInbound(ctx, []*models.Inbound{msg("b"), c})
		if err != nil || again[0] || !again[1] || c.ID == 0 || c.ID == b.ID {
			t.Fatalf("repeat: %v %v, c's id %d", again, err, c.ID)
		}
		if err := s.MarkInboundHandled(ctx, []uint{b.ID}, now); err != nil {
			t.Fatal(err)
		}
		row := func(id uint) models.Inbound {
			var in models.Inbound
			if err := s.DB(ctx).Take(&in, id).Error; err != nil {
				t.Fatal(err)
			}
			return in
		}
		if in := row(b.ID); in.HandledAt == nil || in.ClaimedUntil != nil {
			t.Fatalf("b not marked handled: %+v", in)
		}

		// Leased messages are not offered until the lease runs out.
		if due, err := s.DueInbound(ctx, now, 3, 10); err != nil || len(due) != 0 {
			t.Fatalf("leased rows offered: %d %v", len(due), err)
		}
		if err := s.FailInbound(ctx, a.ID, "database busy", now.Add(10*time.Second)); err != nil {
			t.Fatal(err)
		}
		later := now.Add(2 * time.Minute)
		due, err := s.DueInbound(ctx, later, 3, 10)
		if err != nil || len(due) != 2 || due[0].ID != a.ID || due[0].Attempts != 1 || due[0].LastError != "database busy" {
			t.Fatalf("due after the hold: %+v %v", due, err)
		}
		if ok, err := s.ClaimInbound(ctx, a.ID, 1, later, later.Add(time.Minute)); err != nil || !ok {
			t.Fatalf("claim: %v %v", ok, err)
		}
		if ok, err := s.ClaimInbound(ctx, a.ID, 1, later, later.Add(time.Minute)); err != nil || ok {
			t.Fatalf("the same attempt claimed twice (%v)", err)
		}
		if ok, err := s.ClaimInbound(ctx, a.ID, 2, later, later.Add(time.Minute)); err != nil || ok {
			t.Fatalf("a leased message claimed again (%v)", err)
		}
		if err := s.MarkInboundHandled(ctx, []uint{a.ID, b.ID}, later); err != nil {
			t.Fatal(err)
		}
		if in := row(a.ID); in.HandledAt == nil || in.LastError != "" || in.Attempts != 2 || !in.HandledAt.Equal(later) {
			t.Fatalf("finished: %+v", in)
		}
		if in := row(b.ID); !in.HandledAt.Equal(now) {
			t.Errorf("a message marked twice took the second time: %v", in.HandledAt)
		}
		pending, abandoned, oldest, err := s.UnhandledInbound(ctx, 1)
		if err != nil || pending != 0 || abandoned != 1 || !oldest.IsZero() {
			t.Errorf("unhandled = %d, %d, %v, %v", pending, abandoned, oldest, err)
		}
		// c waits, unclaimed, since it arrived.
		pending, abandoned, oldest, err = s.UnhandledInbound(ctx, 3)
		if err != nil || pending != 1 || abandoned != 0 || !oldest.Equal(now) {
			t.Errorf("unhandled with 3 attempts = %d, %d, %v, %v", pending, abandoned, oldest, err)
		}
	}
}

// TestInboundColumns keeps StoreInbound's column list whole: every column of
// the table but the ID, so that a field added to Inbound is never silently
// left out of the callbacks' insert.
func TestInboundColumns(t *testing.T) {
	s := storetest.Open(t, models.DriverSQLite, storetest.Options{})
	stmt := &gorm.Statement{DB: s.DB(ctx)}
	if err := stmt.Parse(&models.Inbound{}); err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, name := range stmt.Schema.DBNames {
		if name != "id" {
			want = append(want, name)
		}
	}
	got := strings.Split(models.InboundColumns, ", ")
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("StoreInbound writes %v; the table has %v", got, want)
	}
}
