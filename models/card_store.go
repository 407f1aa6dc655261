package models

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// Card is a card with buttons (or a notice card) sent to members: its
// task_id, unique per card, the subject it is about (RefKind and RefID, as
// package msg names them), who received it, and its current state as package
// bot rendered it last (State, bot's to read), so that a repeated tap can be
// answered with it.
type Card struct {
	ID         uint       `gorm:"primaryKey"`
	TaskID     string     `gorm:"column:task_id;size:128;not null;uniqueIndex"`
	RefKind    string     `gorm:"size:8;not null;index:idx_cards_ref,priority:1"`
	RefID      uint       `gorm:"not null;index:idx_cards_ref,priority:2"`
	Recipients StringList `gorm:"not null"`
	State      string     `gorm:"type:mediumtext;not null"`
	CreatedAt  time.Time  `gorm:"not null"`
	UpdatedAt  time.Time  `gorm:"not null"`
}

// CreateCard records a card sent; its TaskID must be new.
func (s *Store) CreateCard(ctx context.Context, c *Card) error {
	now := s.Now()
	c.ID, c.CreatedAt, c.UpdatedAt = 0, now, now
	if err := s.db.WithContext(ctx).Create(c).Error; err != nil {
		return fmt.Errorf("models: record card %s: %w", c.TaskID, err)
	}
	return nil
}

// CardByTask returns the card of a task_id, or an ENOTFOUND error.
func (s *Store) CardByTask(ctx context.Context, taskID string) (*Card, error) {
	var c Card
	err := s.db.WithContext(ctx).Where("task_id = ?", taskID).Take(&c).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, Errorf(ENOTFOUND, "未找到该卡片")
	}
	if err != nil {
		return nil, fmt.Errorf("models: card %s: %w", taskID, err)
	}
	return &c, nil
}

// SetCardState records the state a card was last updated to.
func (s *Store) SetCardState(ctx context.Context, taskID, state string) error {
	err := s.db.WithContext(ctx).Model(&Card{}).Where("task_id = ?", taskID).
		Updates(map[string]any{"state": state, "updated_at": s.Now()}).Error
	if err != nil {
		return fmt.Errorf("models: update card %s: %w", taskID, err)
	}
	return nil
}
