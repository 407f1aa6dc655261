package models_test

import (
	"sync"
	"testing"
	"time"

	"yanzhen/models"
	"yanzhen/models/storetest"
)

func TestOneHolderOfALeaseAtATime(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, storetest.Shanghai)
	storetest.EachWith(t, storetest.Options{Now: func() time.Time { return t0 }}, func(t *testing.T, s *models.Store) {
		const key = "aibot/connection"
		take := func(who string, at time.Time) models.Lease {
			t.Helper()
			l, err := s.TakeLease(ctx, key, who, at, at.Add(20*time.Second))
			if err != nil {
				t.Fatal(err)
			}
			return l
		}
		if l := take("a", t0); !l.HeldBy("a", t0) {
			t.Fatalf("a free lease was not taken: %+v", l)
		}
		if l := take("b", t0.Add(5*time.Second)); l.HeldBy("b", t0.Add(5*time.Second)) || l.Holder != "a" {
			t.Fatalf("b took a's live lease: %+v", l)
		}
		// a renews, also with nothing to change (the same time twice).
		for range 2 {
			if l := take("a", t0.Add(10*time.Second)); !l.HeldBy("a", t0.Add(10*time.Second)) || !l.Until.Equal(t0.Add(30*time.Second)) {
				t.Fatalf("a's renewal: %+v", l)
			}
		}
		// a dies: b takes the lease once it runs out, and not before.
		if l := take("b", t0.Add(29*time.Second)); l.Holder != "a" {
			t.Fatalf("b took the lease before it ran out: %+v", l)
		}
		if l := take("b", t0.Add(30*time.Second)); !l.HeldBy("b", t0.Add(30*time.Second)) {
			t.Fatalf("b did not take the lease a left: %+v", l)
		}
		// a comes back and cannot release or pass what it no longer holds.
		if ok, err := s.ReleaseLease(ctx, key, "a"); err != nil || ok {
			t.Fatalf("a released b's lease: %v %v", ok, err)
		}
		if ok, err := s.PassLease(ctx, key, "a", "kicked:a", t0.Add(time.Hour)); err != nil || ok {
			t.Fatalf("a passed b's lease: %v %v", ok, err)
		}
		// b stands down for a while: nobody takes the lease until then.
		pause := t0.Add(5 * time.Minute)
		if ok, err := s.PassLease(ctx, key, "b", "kicked:b", pause); err != nil || !ok {
			t.Fatalf("b's pass: %v %v", ok, err)
		}
		for _, who := range []string{"a", "b"} {
			if l := take(who, pause.Add(-time.Second)); l.Holder != "kicked:b" {
				t.Fatalf("%s took a paused lease: %+v", who, l)
			}
		}
		if l := take("a", pause); !l.HeldBy("a", pause) {
			t.Fatalf("the pause did not end: %+v", l)
		}
		if ok, err := s.ReleaseLease(ctx, key, "a"); err != nil || !ok {
			t.Fatalf("a's release: %v %v", ok, err)
		}
		if l := take("b", pause); !l.HeldBy("b", pause) {
			t.Fatalf("a released lease was not free: %+v", l)
		}
	})
}

func TestRacingReplicasNeverShareALease(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, storetest.Shanghai)
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		for round := range 5 {
			key := "race/" + string(rune('a'+round))
			var wg sync.WaitGroup
			held := make(chan string, 8)
			for i := range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					who := string(rune('A' + i))
					l, err := s.TakeLease(ctx, key, who, t0, t0.Add(20*time.Second))
					if err != nil {
						t.Error(err)
						return
					}
					if l.HeldBy(who, t0) {
						held <- who
					}
				}()
			}
			wg.Wait()
			close(held)
			var holders []string
			for h := range held {
				holders = append(holders, h)
			}
			if len(holders) != 1 {
				t.Errorf("round %d: holders %v", round, holders)
			}
		}
	})
}
