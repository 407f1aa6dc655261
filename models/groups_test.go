package models_test

import (
	"slices"
	"testing"
	"time"

	"yanzhen/models"
	"yanzhen/models/storetest"
)

// TestGroupsKeepTheirUnitsApart: a unit is in one group at most, a chat is
// one group's, and a group's units are exactly those last given.
func TestGroupsKeepTheirUnitsApart(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		zjj := models.Department{Code: "zjj", Name: "住建局", Sort: 10}
		cgj := models.Department{Code: "cgj", Name: "城管局", Sort: 11}
		hh := models.Department{Code: "hhjd", Name: "环海街道", Tier: models.TierStreet, Sort: 50}
		for _, d := range []*models.Department{&zjj, &cgj, &hh} {
			mustCreate(t, s, d)
		}
		qu := models.Group{Code: "qu", Name: "区群", ChatID: "wrkQu", Units: []uint{cgj.ID, zjj.ID}, Sort: 1}
		if ch, err := s.UpsertGroup(ctx, &qu); err != nil || ch != models.Created {
			t.Fatalf("create: %v %v", ch, err)
		}
		if ch, err := s.UpsertGroup(ctx, &qu); err != nil || ch != models.Unchanged {
			t.Errorf("again: %v %v", ch, err)
		}
		street := models.Group{Code: "hh", Name: "街道群", ChatID: "wrkHh", Units: []uint{hh.ID, zjj.ID}, Sort: 2}
		if _, err := s.UpsertGroup(ctx, &street); models.UserText(err) != "单位 住建局 已属于工作群 qu" {
			t.Errorf("a unit of another group: %v", err)
		}
		other := models.Group{Code: "x", Name: "别群", ChatID: "wrkQu"}
		if _, err := s.UpsertGroup(ctx, &other); models.UserText(err) != "群聊 wrkQu 已属于工作群 qu" {
			t.Errorf("a chat of another group: %v", err)
		}
		street.Units = []uint{hh.ID}
		if _, err := s.UpsertGroup(ctx, &street); err != nil {
			t.Fatal(err)
		}
		qu.Units = []uint{zjj.ID}
		if ch, err := s.UpsertGroup(ctx, &qu); err != nil || ch != models.Updated {
			t.Errorf("dropping a unit: %v %v", ch, err)
		}
		groups, err := s.Groups(ctx)
		must(t, err)
		if len(groups) != 2 || groups[0].Code != "qu" || !slices.Equal(groups[0].Units, []uint{zjj.ID}) || !slices.Equal(groups[1].Units, []uint{hh.ID}) {
			t.Fatalf("groups %+v", groups)
		}
		for _, c := range []struct {
			code, chat, robot string
			ok                bool
		}{{"", "wrkQu", "", true}, {"hh", "wrkHh", "", true}, {"none", "", "", false}} {
			p, ok, err := s.GroupPlaceOf(ctx, c.code)
			must(t, err)
			if ok != c.ok || p.ChatID != c.chat {
				t.Errorf("place of %q: %+v %v", c.code, p, ok)
			}
		}
		// 城管局, dropped by qu and in no group, is the first group's.
		set, err := s.GroupSet(ctx)
		must(t, err)
		if set.Home(cgj.ID) != "qu" || set.Home(hh.ID) != "hh" || !slices.Equal(set.Units("qu"), []uint{zjj.ID, cgj.ID}) {
			t.Errorf("homes: 城管局 %q, 环海街道 %q; qu covers %v", set.Home(cgj.ID), set.Home(hh.ID), set.Units("qu"))
		}
		if sc := set.Scope(set.Of("hh")); !sc.Has(hh.ID) || sc.Has(zjj.ID) || sc.Whole || len(sc.Filter()) != 1 {
			t.Errorf("scope of hh: %+v", sc)
		}
	})
}

// TestAnInstallationWithoutGroupsIsOneGroup: with no group configured, one
// group (code "") covers every unit, as a single-group installation always did.
func TestAnInstallationWithoutGroupsIsOneGroup(t *testing.T) {
	depts := []models.Department{{ID: 1, Name: "住建局"}, {ID: 2, Name: "环海街道", District: ""}}
	set := models.NewGroupSet(nil, depts)
	if set.Configured() || len(set.Groups) != 1 || set.Default().Code != "" || set.Home(2) != "" || !slices.Equal(set.Units(""), []uint{1, 2}) {
		t.Errorf("the implicit group: %+v", set)
	}
	if sc := set.Scope(set.Default()); !sc.Whole || sc.Filter() != nil {
		t.Errorf("its scope needs no filter: %+v", sc)
	}
}

// TestEachDistrictHasItsOwnFirstGroup: a unit in no group belongs to the
// first group of its district, which is the district's own (Top).
func TestEachDistrictHasItsOwnFirstGroup(t *testing.T) {
	depts := []models.Department{{ID: 1, Name: "住建局", District: "西城区"}, {ID: 2, Name: "住建局", District: "东城区"}, {ID: 3, Name: "社区", District: "东城区"}}
	groups := []models.Group{
		{Code: "xc", District: "西城区"}, {Code: "dc", District: "东城区"}, {Code: "dc-st", District: "东城区", Units: []uint{3}},
	}
	set := models.NewGroupSet(groups, depts)
	if set.Home(1) != "xc" || set.Home(2) != "dc" || set.Home(3) != "dc-st" {
		t.Errorf("homes %q %q %q", set.Home(1), set.Home(2), set.Home(3))
	}
	if !set.Top(set.Of("dc")) || set.Top(set.Of("dc-st")) || !set.Top(set.Of("xc")) {
		t.Error("the first group of each district is its own")
	}
	if sc := models.DistrictScope("东城区", depts); sc.Whole || !slices.Equal(sc.Units, []uint{2, 3}) {
		t.Errorf("东城区's scope %+v", sc)
	}
}

// TestSlotsAreClaimedPerGroup: the same job and slot of two groups are two
// claims; each is claimed once.
func TestSlotsAreClaimedPerGroup(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		const slot = "2026-11-20T17:30"
		qu, err := s.ClaimJob(ctx, "daily-report", "qu", slot, "a", false, time.Minute)
		must(t, err)
		hh, err := s.ClaimJob(ctx, "daily-report", "hh", slot, "a", false, time.Minute)
		must(t, err)
		again, err := s.ClaimJob(ctx, "daily-report", "hh", slot, "b", false, time.Minute)
		must(t, err)
		if qu == nil || hh == nil || again != nil {
			t.Errorf("claims qu %v, hh %v, hh again %v", qu, hh, again)
		}
		run, err := s.JobRunOf(ctx, "daily-report", "hh", slot)
		must(t, err)
		if run.Owner != "a" || run.Group != "hh" {
			t.Errorf("hh's run %+v", run)
		}
	})
}

// TestMigrateDropsTheIndexesGroupsAndDistrictsOutgrew: a database of the
// single-district schema (department names unique across the city, one
// slot per job) migrates to names unique within a district and slots per
// group.
func TestMigrateDropsTheIndexesGroupsAndDistrictsOutgrew(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		db := s.DB(ctx)
		must(t, db.Exec("CREATE UNIQUE INDEX idx_departments_name ON "+s.Table(&models.Department{})+" (name)").Error)
		must(t, db.Exec("CREATE UNIQUE INDEX idx_job_runs_job_slot ON "+s.Table(&models.JobRun{})+" (job, slot)").Error)
		must(t, s.Migrate(ctx))
		mustCreate(t, s, &models.Department{Code: "xc-zjj", Name: "住建局", District: "西城区"})
		mustCreate(t, s, &models.Department{Code: "dc-zjj", Name: "住建局", District: "东城区"})
		if err := s.DB(ctx).Create(&models.Department{Code: "dc-zjj2", Name: "住建局", District: "东城区"}).Error; err == nil {
			t.Error("two departments of one name in one district")
		}
		for _, g := range []string{"qu", "hh"} {
			if run, err := s.ClaimJob(ctx, "remind", g, "2026-11-20T17:00", "a", false, time.Minute); err != nil || run == nil {
				t.Errorf("claim of %s: %v %v", g, run, err)
			}
		}
	})
}
