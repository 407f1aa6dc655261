package models_test

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"yanzhen/models"
	"yanzhen/models/storetest"
)

func TestMain(m *testing.M) {
	// The store must keep Asia/Shanghai whatever the machine's zone is.
	os.Setenv("TZ", "America/Los_Angeles")
	os.Exit(m.Run())
}

var ctx = context.Background()

func TestUniqueConstraints(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		db := s.DB(ctx)
		mustCreate(t, s, &models.Department{Code: "zjj", Name: "住建局"})
		err := db.Create(&models.Department{Code: "zjj", Name: "另一个"}).Error
		if models.ErrorCode(err) != models.ECONFLICT {
			t.Errorf("duplicate department code: code %q (%v)", models.ErrorCode(err), err)
		}
		mustCreate(t, s, &models.Member{UserID: "zhangsan", Name: "张三", Role: models.RoleHead, Active: true})
		err = db.Create(&models.Member{UserID: "zhangsan", Name: "张三二", Role: models.RoleHead}).Error
		if models.ErrorCode(err) != models.ECONFLICT {
			t.Errorf("duplicate userid: %v", err)
		}
		mustCreate(t, s, &models.Ticket{Number: "2024112700123", Status: models.TicketPending, ReceivedAt: s.Now()})
		err = db.Create(&models.Ticket{Number: "2024112700123", Status: models.TicketPending, ReceivedAt: s.Now()}).Error
		if models.ErrorCode(err) != models.ECONFLICT {
			t.Errorf("duplicate ticket number: %v", err)
		}
		in := models.Inbound{Route: models.RouteRobot, MsgID: "m1", ReceivedAt: s.Now()}
		mustCreate(t, s, &in)
		again := models.Inbound{Route: models.RouteRobot, MsgID: "m1", ReceivedAt: s.Now()}
		if err := db.Create(&again).Error; models.ErrorCode(err) != models.ECONFLICT {
			t.Errorf("duplicate inbound msgid: %v", err)
		}
		// The same MsgId on another route is another message.
		mustCreate(t, s, &models.Inbound{Route: models.RouteApp, MsgID: "m1", ReceivedAt: s.Now()})
		mustCreate(t, s, &models.JobRun{Job: "daily-report", Slot: "2026-11-20T18:00", Status: models.JobRunning})
		if err := db.Create(&models.JobRun{Job: "daily-report", Slot: "2026-11-20T18:00", Status: models.JobRunning}).Error; models.ErrorCode(err) != models.ECONFLICT {
			t.Errorf("duplicate job slot: %v", err)
		}
		dep := models.Department{}
		must(t, db.Where("code = ?", "zjj").Take(&dep).Error)
		mustCreate(t, s, &models.DailyReport{DepartmentID: dep.ID, Day: "2026-11-20", Text: "x", SubmittedBy: "zhangsan", SubmittedAt: s.Now()})
		if err := db.Create(&models.DailyReport{DepartmentID: dep.ID, Day: "2026-11-20", Text: "y", SubmittedBy: "zhangsan", SubmittedAt: s.Now()}).Error; models.ErrorCode(err) != models.ECONFLICT {
			t.Errorf("second report row for one day: %v", err)
		}
		key := "k1"
		mustCreate(t, s, &models.OutboxMessage{Channel: "robot", Destination: "d", Kind: "text", Body: "a", DedupeKey: &key, Status: models.OutboxPending, NextAttemptAt: s.Now()})
		if err := db.Create(&models.OutboxMessage{Channel: "robot", Destination: "d", Kind: "text", Body: "b", DedupeKey: &key, Status: models.OutboxPending, NextAttemptAt: s.Now()}).Error; models.ErrorCode(err) != models.ECONFLICT {
			t.Errorf("duplicate dedupe key: %v", err)
		}
		// Rows without a dedupe key never collide.
		for i := 0; i < 2; i++ {
			mustCreate(t, s, &models.OutboxMessage{Channel: "robot", Destination: "d", Kind: "text", Body: "c", Status: models.OutboxPending, NextAttemptAt: s.Now()})
		}
	})
}

func TestFourByteCharactersRoundTrip(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		text := "𠮷野家 反映：小区电梯停运😡，请尽快处理。𡈼"
		tk := models.Ticket{Number: "BJ2024112700123", Title: "𠮷", Content: text, Status: models.TicketPending, ReceivedAt: s.Now()}
		mustCreate(t, s, &tk)
		var got models.Ticket
		if err := s.DB(ctx).Where("number = ?", "BJ2024112700123").Take(&got).Error; err != nil {
			t.Fatal(err)
		}
		if got.Content != text || got.Title != "𠮷" {
			t.Errorf("content = %q, title = %q", got.Content, got.Title)
		}
		// And a lookup by a 4-byte name finds it.
		mustCreate(t, s, &models.Department{Code: "x", Name: "𠮷街道", Aliases: models.StringList{"𠮷"}})
		dir, err := s.Directory(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got := dir.FindDepartments("𠮷"); len(got) != 1 || got[0].Name != "𠮷街道" {
			t.Errorf("alias lookup = %v", got)
		}
	})
}

func TestTimesRoundTripInShanghai(t *testing.T) {
	pinned := time.Date(2026, 11, 20, 17, 59, 59, 123456789, storetest.Shanghai)
	storetest.EachWith(t, storetest.Options{Now: func() time.Time { return pinned.UTC() }}, func(t *testing.T, s *models.Store) {
		if got := s.Now(); got.Location() != storetest.Shanghai || got.Hour() != 17 {
			t.Fatalf("Now = %v", got)
		}
		// A time given in UTC is the same instant after the round trip.
		received := time.Date(2026, 11, 20, 1, 30, 0, 0, time.UTC) // 09:30 in Shanghai
		deadline := received.Add(72 * time.Hour).In(time.FixedZone("X", -5*3600))
		tk := models.Ticket{Number: "1", Status: models.TicketPending, ReceivedAt: received, Deadline: &deadline}
		mustCreate(t, s, &tk)
		var got models.Ticket
		if err := s.DB(ctx).Take(&got, tk.ID).Error; err != nil {
			t.Fatal(err)
		}
		if !got.ReceivedAt.Equal(received) || got.ReceivedAt.In(storetest.Shanghai).Format("15:04") != "09:30" {
			t.Errorf("received_at = %v", got.ReceivedAt)
		}
		if got.Deadline == nil || !got.Deadline.Equal(deadline) {
			t.Errorf("deadline = %v, want %v", got.Deadline, deadline)
		}
		if !got.CreatedAt.Equal(pinned.Truncate(time.Microsecond)) {
			t.Errorf("created_at = %v, want the pinned clock %v", got.CreatedAt, pinned)
		}
		// Range queries compare instants, whatever zone the bound is written in.
		var n int64
		lo := time.Date(2026, 11, 20, 9, 0, 0, 0, storetest.Shanghai).UTC()
		hi := time.Date(2026, 11, 20, 10, 0, 0, 0, storetest.Shanghai).In(time.FixedZone("Y", 11*3600))
		must(t, s.DB(ctx).Model(&models.Ticket{}).Where("received_at >= ? AND received_at < ?", lo, hi).Count(&n).Error)
		if n != 1 {
			t.Errorf("range query across zones found %d tickets, want 1", n)
		}
		// 09:30 Shanghai is not before 09:00 Shanghai, although "01:30+00:00" sorts before "09:00+08:00" as text.
		must(t, s.DB(ctx).Model(&models.Ticket{}).Where("received_at < ?", time.Date(2026, 11, 20, 9, 0, 0, 0, storetest.Shanghai)).Count(&n).Error)
		if n != 0 {
			t.Errorf("a ticket received at 09:30 counted as received before 09:00")
		}
	})
}

func TestUpsertOrg(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		d := models.Department{Code: "zjj", Name: "住建局", Aliases: models.StringList{"住建"}, ReportRequired: true, Sort: 10}
		if ch, err := s.UpsertDepartment(ctx, &d); err != nil || ch != models.Created {
			t.Fatalf("first upsert: %v %v", ch, err)
		}
		same := d
		same.ID = 0
		if ch, err := s.UpsertDepartment(ctx, &same); err != nil || ch != models.Unchanged || same.ID != d.ID {
			t.Fatalf("same upsert: %v %v id=%d", ch, err, same.ID)
		}
		changed := same
		changed.Aliases = models.StringList{"住建", "区住建局"}
		if ch, err := s.UpsertDepartment(ctx, &changed); err != nil || ch != models.Updated {
			t.Fatalf("changed upsert: %v %v", ch, err)
		}
		clash := models.Department{Code: "other", Name: "住建局"}
		if _, err := s.UpsertDepartment(ctx, &clash); models.ErrorCode(err) != models.ECONFLICT {
			t.Errorf("name clash: %v", err)
		}
		m := models.Member{UserID: "zhangsan", Name: "张三", DepartmentID: &d.ID, Role: models.RoleHead, Active: true}
		if ch, err := s.UpsertMember(ctx, &m); err != nil || ch != models.Created {
			t.Fatalf("member: %v %v", ch, err)
		}
		m2 := m
		m2.ID = 0
		if ch, err := s.UpsertMember(ctx, &m2); err != nil || ch != models.Unchanged {
			t.Errorf("same member: %v %v", ch, err)
		}
		m2.Role = models.RoleReporter
		if ch, err := s.UpsertMember(ctx, &m2); err != nil || ch != models.Updated {
			t.Errorf("role change: %v %v", ch, err)
		}
		got, err := s.MemberByUserID(ctx, "zhangsan")
		if err != nil || got.Role != models.RoleReporter || got.Department == nil || got.Department.Name != "住建局" {
			t.Errorf("member = %+v, %v", got, err)
		}
		_, err = s.MemberByUserID(ctx, "stranger")
		if models.ErrorCode(err) != models.ENOTFOUND || models.UserText(err) != "您尚未登记，请联系管理员" {
			t.Errorf("stranger: %v / %q", err, models.UserText(err))
		}
	})
}

func TestDirectory(t *testing.T) {
	zjj := uint(1)
	hh := uint(2)
	dir := models.NewDirectory(
		[]models.Department{{ID: 1, Code: "zjj", Name: "住建局", Aliases: models.StringList{"住建"}}, {ID: 2, Code: "hhjd", Name: "环海街道", Aliases: models.StringList{"环海"}}},
		[]models.Member{
			{ID: 1, UserID: "a", Name: "张伟", DepartmentID: &zjj, Role: models.RoleHead},
			{ID: 2, UserID: "b", Name: "张伟", DepartmentID: &hh, Role: models.RoleHandler},
			{ID: 3, UserID: "c", Name: "李娜", DepartmentID: &hh, Role: models.RoleReporter, Covers: models.StringList{"zjj"}},
		},
	)
	if got := dir.FindDepartments(" 住建 "); len(got) != 1 || got[0].Code != "zjj" {
		t.Errorf("alias = %v", got)
	}
	if got := dir.FindMembers("张伟"); len(got) != 2 {
		t.Errorf("ambiguous name found %d", len(got))
	}
	if got := dir.Responsible(2); len(got) != 1 || got[0].UserID != "c" {
		t.Errorf("street without head falls back to its reporter: %v", got)
	}
	if got := dir.MembersOf(1, models.RoleReporter); len(got) != 1 || got[0].UserID != "c" {
		t.Errorf("covering reporter: %v", got)
	}
}

func TestUserText(t *testing.T) {
	cases := []struct {
		err  error
		want string
	}{
		{models.Errorf(models.EFORBIDDEN, "仅区领导可以调度"), "仅区领导可以调度"},
		{&models.Error{Code: models.ENOTFOUND}, "未找到相关记录"},
		{errors.New("dial tcp 10.0.0.1:3306: connection refused"), "系统繁忙，请稍后再试"},
	}
	for _, c := range cases {
		if got := models.UserText(c.err); got != c.want {
			t.Errorf("UserText(%v) = %q, want %q", c.err, got, c.want)
		}
	}
}

// must fails the test on a store error.
func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func mustCreate(t *testing.T, s *models.Store, v any) {
	t.Helper()
	if err := s.DB(ctx).Create(v).Error; err != nil {
		t.Fatalf("create %T: %v", v, err)
	}
}

func TestMigrateDropsStaleIndexes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		m := s.DB(ctx).Migrator()
		if err := s.DB(ctx).Exec("CREATE INDEX idx_tickets_status_deadline ON " + s.Table(&models.Ticket{}) + " (status, deadline)").Error; err != nil {
			t.Fatal(err)
		}
		if err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		if m.HasIndex(&models.Ticket{}, "idx_tickets_status_deadline") {
			t.Error("the stale index survived the migration")
		}
		if !m.HasIndex(&models.Ticket{}, "idx_tickets_open") {
			t.Error("the open-tickets index is missing")
		}
	})
}
