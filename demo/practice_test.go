package demo

import (
	"context"
	"testing"
	"time"

	"yanzhen/config"
	"yanzhen/models"
	"yanzhen/models/storetest"
)

func TestSeedHoldsThePracticeAtEveryStep(t *testing.T) {
	ctx := context.Background()
	store := storetest.Open(t, models.DriverSQLite, storetest.Options{})
	cfg := config.Default()
	now := time.Date(2026, 11, 20, 15, 0, 0, 0, cfg.Location())
	svc := ticketService(t, store, cfg)
	first, err := Seed(ctx, svc, cfg, now)
	if err != nil {
		t.Fatal(err)
	}
	if first.Practice == 0 {
		t.Fatal("no practice seeded")
	}
	states := map[models.RectifyState]int{}
	items, err := store.ListRectifications(ctx, models.RectifyQuery{States: models.RectifyStates})
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		states[it.State]++
	}
	for _, st := range models.RectifyStates {
		if states[st] == 0 {
			t.Errorf("no item %s", st)
		}
	}
	latest, err := store.LatestAccountability(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	rungs := map[models.AccountStep]int{}
	for _, r := range latest {
		rungs[r.Step]++
		if r.Step == models.AccountReview && r.DispatchID == nil {
			t.Error("a 责令检视 without its dispatch")
		}
	}
	if rungs[models.AccountRemind] != 1 || rungs[models.AccountInterview] != 2 || rungs[models.AccountReview] != 1 {
		t.Errorf("rungs %v", rungs)
	}
	track, err := store.KeyTickets(ctx, models.DayOf(now, cfg.Location()))
	if err != nil || len(track) != 2 {
		t.Errorf("重点件 %d %v", len(track), err)
	}
	for state, want := range map[models.RequestState]int{models.RequestPendingOffice: 1, models.RequestApproved: 2} {
		var n int64
		if err := store.DB(ctx).Model(&models.TicketRequest{}).Where("state = ?", state).Count(&n).Error; err != nil {
			t.Fatal(err)
		}
		if int(n) != want { // approved: a 剔除 and a 无法整改
			t.Errorf("%d requests %s, want %d", n, state, want)
		}
	}
	if again, err := Seed(ctx, svc, cfg, now.Add(time.Hour)); err != nil || again.Practice != 0 {
		t.Errorf("seeded again: %d %v", again.Practice, err)
	}
}
