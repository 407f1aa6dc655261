package orgimport

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"yanzhen/sheet"
)

// Columns of the two sheets of the xlsx org file, with the aliases people use.
var (
	departmentColumns = sheet.Columns{
		"code": {"编码", "部门编码", "代码"}, "name": {"名称", "部门名称", "单位名称"},
		"aliases": {"别名", "简称"}, "kind": {"类型", "单位类型"}, "parent": {"上级", "上级部门", "所属街道"},
		"domain": {"领域", "民生领域"}, "report_required": {"需报日报", "是否报日报"}, "sort": {"排序", "序号"},
	}
	memberColumns = sheet.Columns{
		"userid": {"账号", "userid", "企业微信账号"}, "name": {"姓名"}, "aliases": {"别名"},
		"mobile": {"手机", "手机号"}, "department": {"部门", "所属部门"}, "role": {"角色"},
		"main": {"主要领导"}, "covers": {"兼报部门", "兼报"},
	}
)

// ParseXLSX reads the xlsx org file: a sheet 部门 (编码/名称/别名/类型/上级/领域/
// 需报日报/排序) and a sheet 人员 (账号/姓名/别名/手机/部门/角色, optionally
// 主要领导 and 兼报部门). Lists in a cell are separated by 、，, ; or spaces. Row
// numbers are Excel's. A missing sheet or header is an error; a bad cell goes
// to File.Errors.
func ParseXLSX(r io.Reader) (*File, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("读取组织架构文件：%w", err)
	}
	f := &File{}
	err = readSheet(data, SheetDepartments, departmentColumns, []string{"code", "name"}, f, func(row sheet.Row) error {
		required, err := optionalBool(row, "report_required")
		if err != nil {
			return err
		}
		sort, err := sheet.ParseInt(row.Get("sort"))
		if err != nil {
			return row.Errorf("sort", "应为整数")
		}
		f.Departments = append(f.Departments, Row[Department]{Sheet: SheetDepartments, Num: row.Num, Value: Department{
			Code: row.Get("code"), Name: row.Get("name"), Aliases: splitList(row.Get("aliases")),
			Kind: row.Get("kind"), Parent: row.Get("parent"), Domain: row.Get("domain"),
			ReportRequired: required, Sort: sort,
		}})
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = readSheet(data, SheetMembers, memberColumns, []string{"userid", "name"}, f, func(row sheet.Row) error {
		main, err := optionalBool(row, "main")
		if err != nil {
			return err
		}
		f.Members = append(f.Members, Row[Member]{Sheet: SheetMembers, Num: row.Num, Value: Member{
			UserID: row.Get("userid"), Name: row.Get("name"), Aliases: splitList(row.Get("aliases")),
			Mobile: sheet.NumberText(row.Get("mobile")), Department: row.Get("department"), Role: row.Get("role"),
			Main: main, Covers: splitList(row.Get("covers")),
		}})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return f, nil
}

// readSheet streams one sheet into f through add; an *sheet.Error from add
// becomes a row error, anything else stops the import.
func readSheet(data []byte, name string, cols sheet.Columns, required []string, f *File, add func(sheet.Row) error) error {
	rd, err := sheet.Open(bytes.NewReader(data), sheet.Options{Format: sheet.XLSX, Sheet: name, Columns: cols, Required: required})
	if err != nil {
		return fmt.Errorf("工作表 %s：%w", name, err)
	}
	defer rd.Close()
	for {
		row, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("工作表 %s：%w", name, err)
		}
		if err := add(row); err != nil {
			var se *sheet.Error
			if !errors.As(err, &se) {
				return err
			}
			reason := se.Reason
			if se.Column != "" {
				reason = se.Column + "：" + se.Reason
			}
			f.Errors = append(f.Errors, RowError{Sheet: name, Row: row.Num, Reason: reason})
		}
	}
}

func optionalBool(row sheet.Row, field string) (bool, error) {
	v, err := sheet.ParseBool(row.Get(field))
	if err != nil {
		return false, row.Errorf(field, "应为 是 或 否")
	}
	return v != nil && *v, nil
}

// splitList splits a cell holding several names.
func splitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool {
		return strings.ContainsRune("、,，;； \t\n", r)
	})
}
