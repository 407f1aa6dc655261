package orgimport

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"yanzhen/sheet"
)

// Columns of the two sheets of the xlsx org file, with the aliases people use.
var (
	departmentColumns = sheet.Columns{
		"code": {"编码", "部门编码", "代码"}, "name": {"名称", "部门名称", "单位名称"},
		"aliases": {"别名", "简称"}, "kind": {"类型", "单位类型"}, "parent": {"上级", "上级部门", "所属街道"},
		"domain": {"领域", "民生领域"}, "report_required": {"需报日报", "是否报日报"}, "sort": {"排序", "序号"},
		"district": {"区", "所属区", "区县"},
	}
	memberColumns = sheet.Columns{
		"userid": {"账号", "userid", "企业微信账号"}, "name": {"姓名"}, "aliases": {"别名"},
		"mobile": {"手机", "手机号"}, "department": {"部门", "所属部门"}, "role": {"角色"},
		"main": {"主要领导"}, "covers": {"兼报部门", "兼报"}, "district": {"区", "所属区", "区县"},
	}
	groupColumns = sheet.Columns{
		"code": {"编码", "群编码"}, "name": {"名称", "群名称", "群名"}, "district": {"区", "所属区", "区县"},
		"chat_id": {"群聊ID", "chat_id", "chatid", "群ID"}, "robot": {"机器人", "robot"},
		"units": {"单位", "所辖单位", "覆盖单位"}, "report_at": {"日报时间", "报送时间"}, "remind_at": {"提醒时间"},
		"sort": {"排序", "序号"},
	}
)

// maxRowBytes bounds the text of the rows an org file may hold: an org of
// thousands of members is a few megabytes.
const maxRowBytes = 32 << 20

// ParseXLSX reads the xlsx org file: a sheet 部门 (编码/名称/别名/类型/上级/领域/
// 需报日报/排序, optionally 区), a sheet 人员 (账号/姓名/别名/手机/部门/角色,
// optionally 主要领导, 兼报部门 and 区) and, optionally, a sheet 群 of the work
// groups (编码/名称/群聊ID/机器人/单位/日报时间/提醒时间, optionally 区 and 排序). Lists in a cell are separated by 、，, ; or spaces. Row
// numbers are Excel's. r is read one sheet after the other, so it is a file
// or other random-access reader of size bytes; lim bounds it as it bounds
// ticket exports. A missing sheet or header, a file over lim or rows over
// 32 MB in all are errors; a bad cell or a row over a limit goes to File.Errors.
func ParseXLSX(r io.ReaderAt, size int64, lim sheet.Limits) (*File, error) {
	f := &File{}
	budget := maxRowBytes
	err := readSheet(r, size, lim, SheetDepartments, departmentColumns, []string{"code", "name"}, f, &budget, func(row sheet.Row) error {
		required, err := optionalBool(row, "report_required")
		if err != nil {
			return err
		}
		sort, err := sheet.ParseInt(row.Get("sort"))
		if err != nil {
			return row.Errorf("sort", "应为整数")
		}
		f.Departments = append(f.Departments, Row[Department]{Sheet: SheetDepartments, Num: row.Num, Value: Department{
			Code: row.Get("code"), Name: row.Get("name"), District: row.Get("district"), Aliases: splitList(row.Get("aliases")),
			Kind: row.Get("kind"), Parent: row.Get("parent"), Domain: row.Get("domain"),
			ReportRequired: required, Sort: sort,
		}})
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = readSheet(r, size, lim, SheetMembers, memberColumns, []string{"userid", "name"}, f, &budget, func(row sheet.Row) error {
		main, err := optionalBool(row, "main")
		if err != nil {
			return err
		}
		f.Members = append(f.Members, Row[Member]{Sheet: SheetMembers, Num: row.Num, Value: Member{
			UserID: row.Get("userid"), Name: row.Get("name"), Aliases: splitList(row.Get("aliases")),
			Mobile: sheet.NumberText(row.Get("mobile")), Department: row.Get("department"), Role: row.Get("role"),
			District: row.Get("district"), Main: main, Covers: splitList(row.Get("covers")),
		}})
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = readSheet(r, size, lim, SheetGroups, groupColumns, []string{"code", "name"}, f, &budget, func(row sheet.Row) error {
		sort, err := sheet.ParseInt(row.Get("sort"))
		if err != nil {
			return row.Errorf("sort", "应为整数")
		}
		f.Groups = append(f.Groups, Row[Group]{Sheet: SheetGroups, Num: row.Num, Value: Group{
			Code: row.Get("code"), Name: row.Get("name"), District: row.Get("district"), ChatID: row.Get("chat_id"),
			Robot: row.Get("robot"), Units: splitList(row.Get("units")), ReportAt: clockText(row.Get("report_at")),
			RemindAt: clockText(row.Get("remind_at")), Sort: sort,
		}})
		return nil
	})
	if errors.Is(err, sheet.ErrNoSheet) {
		return f, nil // a file of one group: the 群 sheet is optional
	}
	if err != nil {
		return nil, err
	}
	return f, nil
}

// readSheet streams one sheet into f through add, counting the rows' text
// against budget; an *sheet.Error from add or a row the reader refuses
// becomes a row error, anything else stops the import.
func readSheet(r io.ReaderAt, size int64, lim sheet.Limits, name string, cols sheet.Columns, required []string, f *File, budget *int, add func(sheet.Row) error) error {
	rd, err := sheet.Open(io.NewSectionReader(r, 0, size), sheet.Options{Format: sheet.XLSX, Sheet: name, Columns: cols, Required: required, Limits: lim})
	if err != nil {
		return fmt.Errorf("工作表 %s：%w", name, err)
	}
	defer rd.Close()
	for {
		row, err := rd.Next()
		var se *sheet.Error
		switch {
		case errors.Is(err, io.EOF):
			return nil
		case errors.As(err, &se) && se.Row > 0:
			f.Errors = append(f.Errors, rowError(name, se))
			continue
		case err != nil:
			return fmt.Errorf("工作表 %s：%w", name, err)
		}
		for field := range cols {
			*budget -= len(row.Get(field))
		}
		if *budget < 0 {
			return fmt.Errorf("工作表 %s 第 %d 行：组织架构文件的内容超过 %s，请确认文件是否正确", name, row.Num, sheet.Size(maxRowBytes))
		}
		if err := add(row); err != nil {
			if !errors.As(err, &se) {
				return err
			}
			f.Errors = append(f.Errors, rowError(name, se))
		}
	}
}

// rowError is a refused row of sheet name.
func rowError(name string, se *sheet.Error) RowError {
	reason := se.Reason
	if se.Column != "" {
		reason = se.Column + "：" + se.Reason
	}
	return RowError{Sheet: name, Row: se.Row, Reason: reason}
}

func optionalBool(row sheet.Row, field string) (bool, error) {
	v, err := sheet.ParseBool(row.Get(field))
	if err != nil {
		return false, row.Errorf(field, "应为 是 或 否")
	}
	return v != nil && *v, nil
}

// clockText reads a time of day from a cell: "17:30" as typed, or the
// fraction of a day Excel keeps when the cell is formatted as a time.
func clockText(s string) string {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 || f >= 1 || strings.Contains(s, ":") {
		return s
	}
	m := int(math.Round(f * 24 * 60))
	return fmt.Sprintf("%02d:%02d", m/60, m%60)
}

// splitList splits a cell holding several names.
func splitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool {
		return strings.ContainsRune("、,，;； \t\n", r)
	})
}
