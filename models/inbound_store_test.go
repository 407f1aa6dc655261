package models_test

import (
	"strings"
	"testing"
	"time"

	"yanzhen/models"
	"yanzhen/models/storetest"
)

func TestInboundLifecycle(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, storetest.Shanghai)
	storetest.EachWith(t, storetest.Options{Now: func() time.Time { return now }}, func(t *testing.T, s *models.Store) {
		lease := now.Add(time.Minute)
		msg := func(id string) *models.Inbound {
			// The receiver stores a message with its first attempt claimed.
			return &models.Inbound{Route: models.RouteRobot, MsgID: id, Text: "日报", FromName: strings.Repeat("名", 40),
				ReceivedAt: now, Attempts: 1, ClaimedUntil: &lease}
		}
		batch := []*models.Inbound{msg("a"), msg("b"), msg("a")}
		fresh, err := s.WriteInbound(ctx, batch, nil, now)
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
		// A repeat is left out; a handled message is marked in the same commit.
		again, err := s.WriteInbound(ctx, []*models.Inbound{msg("b"), msg("c")}, []uint{b.ID}, now)
		if err != nil || again[0] || !again[1] {
			t.Fatalf("repeat: %v %v", again, err)
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
		if _, err := s.WriteInbound(ctx, nil, []uint{a.ID}, later); err != nil {
			t.Fatal(err)
		}
		if in := row(a.ID); in.HandledAt == nil || in.LastError != "" || in.Attempts != 2 || !in.HandledAt.Equal(later) {
			t.Fatalf("finished: %+v", in)
		}
		pending, abandoned, err := s.UnhandledInbound(ctx, 1)
		if err != nil || pending != 0 || abandoned != 1 {
			t.Errorf("unhandled = %d, %d, %v", pending, abandoned, err)
		}
	})
}
