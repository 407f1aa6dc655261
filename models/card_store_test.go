package models_test

import (
	"slices"
	"testing"
	"time"

	"yanzhen/models"
	"yanzhen/models/storetest"
)

func TestCards(t *testing.T) {
	now := time.Date(2026, 11, 20, 12, 3, 0, 0, storetest.Shanghai)
	storetest.EachWith(t, storetest.Options{Now: func() time.Time { return now }}, func(t *testing.T, s *models.Store) {
		c := &models.Card{TaskID: "yz01", RefKind: "d", RefID: 12, Recipients: models.StringList{"zhangsan", "liuyi"}, State: `{"card_type":"button_interaction"}`}
		if err := s.CreateCard(ctx, c); err != nil {
			t.Fatal(err)
		}
		// A task_id names one card only.
		if err := s.CreateCard(ctx, &models.Card{TaskID: "yz01", RefKind: "d", RefID: 13, State: "{}"}); err == nil {
			t.Error("a second card with the task_id was recorded")
		}
		now = now.Add(time.Minute)
		if err := s.SetCardState(ctx, "yz01", "signed"); err != nil {
			t.Fatal(err)
		}
		got, err := s.CardByTask(ctx, "yz01")
		if err != nil {
			t.Fatal(err)
		}
		if got.RefKind != "d" || got.RefID != 12 || !slices.Equal(got.Recipients, []string{"zhangsan", "liuyi"}) || got.State != "signed" ||
			!got.UpdatedAt.Equal(now) || got.CreatedAt.Equal(now) {
			t.Errorf("card %+v", got)
		}
		if _, err := s.CardByTask(ctx, "yz02"); models.ErrorCode(err) != models.ENOTFOUND {
			t.Errorf("unknown task_id: %v", err)
		}
	})
}
