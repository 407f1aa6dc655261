package models_test

import (
	"strings"
	"testing"

	"yanzhen/models"
	"yanzhen/models/storetest"
)

func TestUserIDsCompareWithoutCase(t *testing.T) {
	// WeCom userids do not differ by case; neither do members, on either database.
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		mustCreate(t, s, &models.Member{UserID: "DupUser", Name: "甲", Role: models.RoleLeader, Active: true})
		err := s.DB(ctx).Create(&models.Member{UserID: "dupuser", Name: "乙", Role: models.RoleLeader, Active: true}).Error
		if models.ErrorCode(err) != models.ECONFLICT {
			t.Errorf("a second member for another case of the userid: %v", err)
		}
		m := models.Member{UserID: "DUPUSER", Name: "甲", Role: models.RoleLeader, Active: true}
		if ch, err := s.UpsertMember(ctx, &m); err != nil || ch != models.Updated {
			t.Errorf("upsert in another case: %v %v", ch, err)
		}
		got, err := s.MemberByUserID(ctx, "dUpUsEr")
		if err != nil || got.ID != m.ID || got.UserID != "DUPUSER" {
			t.Errorf("MemberByUserID = %+v, %v", got, err)
		}
	})
}

func TestMigrateNamesUserIDsThatDifferOnlyInCase(t *testing.T) {
	// Members stored before userids were compared without case, and that
	// differ only in it, stop the migration with their names: merging them
	// is for a person to do.
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		table := s.Table(&models.Member{})
		if s.Driver() == models.DriverSQLite {
			if err := s.DB(ctx).Exec(`DROP INDEX "idx_` + table + `_userid_nocase"`).Error; err != nil {
				t.Fatal(err)
			}
		} else {
			if err := s.DB(ctx).Exec("ALTER TABLE `" + table + "` MODIFY userid varchar(64) NOT NULL COLLATE utf8mb4_bin").Error; err != nil {
				t.Fatal(err)
			}
		}
		for _, id := range []string{"DupUser", "dupuser", "zhangsan"} {
			mustCreate(t, s, &models.Member{UserID: id, Name: id, Role: models.RoleLeader, Active: true})
		}
		err := s.Migrate(ctx)
		if err == nil || !strings.Contains(err.Error(), "DupUser") || !strings.Contains(err.Error(), "dupuser") {
			t.Fatalf("migrate with twins: %v", err)
		}
		if err := s.DB(ctx).Where("userid = ?", "dupuser").Delete(&models.Member{}).Error; err != nil {
			t.Fatal(err)
		}
		if err := s.Migrate(ctx); err != nil {
			t.Fatalf("migrate after the merge: %v", err)
		}
		err = s.DB(ctx).Create(&models.Member{UserID: "ZHANGSAN", Name: "重名", Role: models.RoleLeader, Active: true}).Error
		if models.ErrorCode(err) != models.ECONFLICT {
			t.Errorf("after migrating, another case of a userid: %v", err)
		}
	})
}
