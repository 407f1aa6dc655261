package models

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// ImportRoute says which way an import of tickets came in.
type ImportRoute string

// The routes of imports.
const (
	ImportCLI   ImportRoute = "cli"   // yanzhen import tickets
	ImportAPI   ImportRoute = "api"   // POST /api/v1/tickets and /api/v1/tickets/import
	ImportChat  ImportRoute = "chat"  // a file sent to the bot in chat
	ImportWatch ImportRoute = "watch" // a file dropped in the watched folder (tickets.watch_dir)
	ImportDemo  ImportRoute = "demo"  // the demo's seed
)

// Chinese names the route as 导入状态 shows it.
func (r ImportRoute) Chinese() string {
	switch r {
	case ImportCLI:
		return "命令行"
	case ImportAPI:
		return "接口"
	case ImportChat:
		return "聊天发送文件"
	case ImportWatch:
		return "共享目录"
	case ImportDemo:
		return "演示数据"
	}
	return string(r)
}

// TicketImport records one import of tickets, whichever way it came: when
// it started and finished, the file, who sent it, and the counts of its
// summary. An import that stopped early or whose file could not be read says
// why in Error; one that never finished (the process died) has no FinishedAt.
type TicketImport struct {
	ID    uint        `gorm:"primaryKey"`
	Route ImportRoute `gorm:"size:16;not null"`
	// Name is the file's name; "" for JSON pushed to the API.
	Name string `gorm:"size:255"`
	// By is the userid of the member who sent the file in chat; "" otherwise.
	By string `gorm:"size:64"`
	// Key identifies a file of the watched folder (see tickets.WatchKey), so
	// that each is imported once; nil for the other routes.
	Key        *string   `gorm:"column:file_key;size:64;uniqueIndex"`
	StartedAt  time.Time `gorm:"not null"`
	FinishedAt *time.Time
	Created    int `gorm:"not null"`
	Updated    int `gorm:"not null"`
	Unchanged  int `gorm:"not null"`
	Failed     int `gorm:"not null"`
	// Error says, as users read it, why the import stopped or the file was
	// refused; "" when it ran to the end.
	Error string `gorm:"size:512"`
}

// StartImport records an import about to run and sets its ID. An import
// whose Key was recorded before is an ECONFLICT error: that file is being,
// or has been, imported.
func (s *Store) StartImport(ctx context.Context, imp *TicketImport) error {
	imp.Error = ClipBytes(imp.Error, 512)
	imp.Name = ClipRunes(imp.Name, 255)
	if err := s.db.WithContext(ctx).Create(imp).Error; err != nil {
		if errors.Is(err, gorm.ErrDuplicatedKey) {
			return Errorf(ECONFLICT, "文件“%s”已导入过", imp.Name)
		}
		return fmt.Errorf("models: record import: %w", err)
	}
	return nil
}

// FinishImport records the outcome of an import StartImport recorded: its
// counts, its error and FinishedAt, and its Key (cleared, the file is free
// to be imported again).
func (s *Store) FinishImport(ctx context.Context, imp *TicketImport) error {
	imp.Error = ClipBytes(imp.Error, 512)
	err := s.db.WithContext(ctx).Model(imp).Select("finished_at", "created", "updated", "unchanged", "failed", "error", "file_key").Updates(imp).Error
	if err != nil {
		return fmt.Errorf("models: record import %d: %w", imp.ID, err)
	}
	return nil
}

// LatestImports returns the last n imports, the latest first.
func (s *Store) LatestImports(ctx context.Context, n int) ([]TicketImport, error) {
	var out []TicketImport
	if err := s.db.WithContext(ctx).Order("id DESC").Limit(n).Find(&out).Error; err != nil {
		return nil, fmt.Errorf("models: latest imports: %w", err)
	}
	return out, nil
}

// ImportedKeys reports which of keys (TicketImport.Key) were recorded.
func (s *Store) ImportedKeys(ctx context.Context, keys []string) (map[string]bool, error) {
	out := make(map[string]bool, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	var found []string
	if err := s.db.WithContext(ctx).Model(&TicketImport{}).Where("file_key IN ?", keys).Pluck("file_key", &found).Error; err != nil {
		return nil, fmt.Errorf("models: imported keys: %w", err)
	}
	for _, k := range found {
		out[k] = true
	}
	return out, nil
}
