module github.com/duet-company/ops-skill/scripts/testenv/chdbfront

go 1.26
