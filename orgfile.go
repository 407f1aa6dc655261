package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"yanzhen/models"
	"yanzhen/orgimport"
	"yanzhen/sheet"
)

// importOrgFile reads an org file (YAML, or xlsx with sheets 部门, 人员 and
// optionally 群) and applies it; lim bounds the file as it bounds ticket
// exports, and robots are the names of wecom.robots its groups may name.
// Row errors from parsing and from applying are both in the result.
func importOrgFile(ctx context.Context, s *models.Store, path string, lim sheet.Limits, robots []string) (orgimport.Result, error) {
	f, err := os.Open(path)
	if err != nil {
		return orgimport.Result{}, fmt.Errorf("打开组织架构文件：%w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return orgimport.Result{}, fmt.Errorf("打开组织架构文件：%w", err)
	}
	if limit := lim.OrDefaults().FileBytes; fi.Size() > limit {
		return orgimport.Result{}, sheet.TooLarge(limit)
	}
	var file *orgimport.File
	switch strings.ToLower(filepath.Ext(path)) {
	case ".yaml", ".yml":
		file, err = orgimport.ParseYAML(f)
	case ".xlsx":
		if !fi.Mode().IsRegular() {
			return orgimport.Result{}, fmt.Errorf("组织架构 xlsx 文件须是普通文件：%s", path)
		}
		file, err = orgimport.ParseXLSX(f, fi.Size(), lim)
	default:
		return orgimport.Result{}, fmt.Errorf("不支持的组织架构文件格式 %s：请使用 .yaml 或 .xlsx", path)
	}
	if err != nil {
		return orgimport.Result{}, err
	}
	return orgimport.Apply(ctx, s, file, robots)
}
