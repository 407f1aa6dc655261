package models_test

import (
	"fmt"
	"testing"
	"time"

	"yanzhen/models"
	"yanzhen/models/storetest"
)

func TestKV(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, storetest.Shanghai)
	clock := func() time.Time { return now }
	storetest.EachWith(t, storetest.Options{Now: clock}, func(t *testing.T, s *models.Store) {
		if _, err := s.GetKV(ctx, "wecom/token"); models.ErrorCode(err) != models.ENOTFOUND {
			t.Fatalf("missing key: %v", err)
		}
		exp := now.Add(time.Hour)
		if err := s.PutKV(ctx, "wecom/token", "t1", &exp); err != nil {
			t.Fatal(err)
		}
		if err := s.PutKV(ctx, "wecom/token", "t2", &exp); err != nil {
			t.Fatal(err)
		}
		kv, err := s.GetKV(ctx, "wecom/token")
		if err != nil || kv.Value != "t2" || !kv.ExpiresAt.Equal(exp) {
			t.Fatalf("after two puts: %+v, %v", kv, err)
		}
		// A stale value is not deleted over a fresh one.
		if ok, err := s.DeleteKV(ctx, "wecom/token", "t1"); err != nil || ok {
			t.Fatalf("delete of a stale value: %v %v", ok, err)
		}
		if ok, err := s.DeleteKV(ctx, "wecom/token", "t2"); err != nil || !ok {
			t.Fatalf("delete: %v %v", ok, err)
		}
		past := now.Add(-time.Second)
		if err := s.PutKV(ctx, "old", "v", &past); err != nil {
			t.Fatal(err)
		}
		if _, err := s.GetKV(ctx, "old"); models.ErrorCode(err) != models.ENOTFOUND {
			t.Errorf("expired key: %v", err)
		}
		if err := s.PutKV(ctx, "forever", "v", nil); err != nil {
			t.Fatal(err)
		}
		if kv, err := s.GetKV(ctx, "forever"); err != nil || kv.ExpiresAt != nil {
			t.Errorf("key without expiry: %+v %v", kv, err)
		}
	})
}

func TestPruneKVDeletesTheExpiredKeysOfAPrefix(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		past, future := time.Now().Add(-time.Minute), time.Now().Add(time.Hour)
		for key, at := range map[string]*time.Time{"wecom/media/a": &past, "wecom/media/b": &future, "wecom/media/c": nil, "other/d": &past} {
			if err := s.PutKV(ctx, key, "v", at); err != nil {
				t.Fatal(err)
			}
		}
		n, err := s.PruneKV(ctx, "wecom/media/")
		if err != nil || n != 1 {
			t.Fatalf("pruned %d (%v), want 1", n, err)
		}
		var left []string
		if err := s.DB(ctx).Model(&models.KV{}).Order("`key`").Pluck("`key`", &left).Error; err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(left) != "[other/d wecom/media/b wecom/media/c]" {
			t.Errorf("left %v", left)
		}
	})
}
