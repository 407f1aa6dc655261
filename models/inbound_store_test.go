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
		msg := func(id string) *models.Inbound {
			return &models.Inbound{Route: models.RouteRobot, MsgID: id, Text: "日报", FromName: strings.Repeat("名", 40), ReceivedAt: now}
		}
		batch := []*models.Inbound{msg("a"), msg("b"), msg("a")}
		fresh, err := s.InsertInbound(ctx, batch)
		if err != nil {
			t.Fatal(err)
		}
		if !fresh[0] || !fresh[1] || fresh[2] || batch[0].ID == 0 || batch[2].ID != 0 {
			t.Fatalf("fresh = %v, ids %d %d %d", fresh, batch[0].ID, batch[1].ID, batch[2].ID)
		}
		if len(batch[0].FromName) > 64 {
			t.Errorf("name not cut to its column: %d bytes", len(batch[0].FromName))
		}
		again, err := s.InsertInbound(ctx, []*models.Inbound{msg("b")})
		if err != nil || again[0] {
			t.Fatalf("repeat: %v %v", again, err)
		}

		a, b := batch[0], batch[1]
		// A message just received stays with its receiver for a while.
		due, err := s.DueInbound(ctx, now, 3, now.Add(-30*time.Second), 10)
		if err != nil || len(due) != 0 {
			t.Fatalf("fresh rows offered to the sweep: %d %v", len(due), err)
		}
		lease := now.Add(time.Minute)
		if ok, err := s.ClaimInbound(ctx, a.ID, 0, now, lease); err != nil || !ok {
			t.Fatalf("claim: %v %v", ok, err)
		}
		if ok, _ := s.ClaimInbound(ctx, a.ID, 0, now, lease); ok {
			t.Fatal("the same attempt claimed twice")
		}
		if ok, _ := s.ClaimInbound(ctx, a.ID, 1, now, lease); ok {
			t.Fatal("a leased message claimed again")
		}
		if err := s.FailInbound(ctx, a.ID, "database busy", now.Add(10*time.Second)); err != nil {
			t.Fatal(err)
		}
		later := now.Add(11 * time.Second)
		due, err = s.DueInbound(ctx, later, 3, now, 10)
		if err != nil || len(due) != 1 || due[0].ID != a.ID || due[0].Attempts != 1 || due[0].LastError != "database busy" {
			t.Fatalf("due after the hold: %+v %v", due, err)
		}
		if ok, _ := s.ClaimInbound(ctx, a.ID, 1, later, later.Add(time.Minute)); !ok {
			t.Fatal("retry not claimed")
		}
		if err := s.FinishInbound(ctx, a.ID, later); err != nil {
			t.Fatal(err)
		}
		got, err := s.InboundByID(ctx, a.ID)
		if err != nil || got.HandledAt == nil || got.LastError != "" || got.Attempts != 2 {
			t.Fatalf("finished: %+v %v", got, err)
		}
		// b was never tried; once old enough any replica may take it.
		due, _ = s.DueInbound(ctx, later, 3, later, 10)
		if len(due) != 1 || due[0].ID != b.ID {
			t.Fatalf("untried row not offered: %+v", due)
		}
		pending, abandoned, err := s.UnhandledInbound(ctx, 1)
		if err != nil || pending != 1 || abandoned != 0 {
			t.Errorf("unhandled = %d, %d, %v", pending, abandoned, err)
		}
	})
}
