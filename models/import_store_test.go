package models_test

import (
	"testing"

	"yanzhen/models"
	"yanzhen/models/storetest"
)

// An import is recorded when it starts and when it ends; a watched file's
// key is taken once.
func TestImportRecords(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		key := "3f1c0a"
		first := &models.TicketImport{Route: models.ImportWatch, Name: "12345工单明细.xlsx", Key: &key, StartedAt: sh(11, 20, 9, 0)}
		must(t, s.StartImport(ctx, first))
		again := &models.TicketImport{Route: models.ImportWatch, Name: "12345工单明细.xlsx", Key: &key, StartedAt: sh(11, 20, 9, 5)}
		if err := s.StartImport(ctx, again); models.ErrorCode(err) != models.ECONFLICT {
			t.Errorf("the same key twice: %v", err)
		}
		done := sh(11, 20, 9, 1)
		first.FinishedAt, first.Created, first.Updated, first.Unchanged, first.Failed = &done, 3, 2, 1, 1
		must(t, s.FinishImport(ctx, first))
		chat := &models.TicketImport{Route: models.ImportChat, Name: "导出.csv", By: "liuyi", StartedAt: sh(11, 20, 10, 0)}
		must(t, s.StartImport(ctx, chat))
		cli := &models.TicketImport{Route: models.ImportCLI, Name: "a.xlsx", StartedAt: sh(11, 20, 11, 0)}
		must(t, s.StartImport(ctx, cli)) // no key: any number of them
		list, err := s.LatestImports(ctx, 2)
		must(t, err)
		if len(list) != 2 || list[0].ID != cli.ID || list[1].ID != chat.ID {
			t.Fatalf("latest imports: %+v", list)
		}
		all, err := s.LatestImports(ctx, 10)
		must(t, err)
		got := all[len(all)-1]
		if got.Created != 3 || got.Updated != 2 || got.Unchanged != 1 || got.Failed != 1 || got.FinishedAt == nil || !got.FinishedAt.Equal(done) {
			t.Errorf("finished import: %+v", got)
		}
		seen, err := s.ImportedKeys(ctx, []string{key, "other"})
		must(t, err)
		if !seen[key] || seen["other"] {
			t.Errorf("imported keys: %v", seen)
		}
	})
}
