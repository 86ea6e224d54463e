app-name = 营销安全管控平台
footer-text = GridSafe 营销安全管控平台 · 供电公司营销部安全管理
lang-self-name = 中文
lang-switch-label = 界面语言
nav-label = 主导航
nav-menu = 菜单
nav-home = 首页

home-title = 首页
home-intro = 业扩报装、装表接电、停复电、故障报修和用电检查的现场作业安全管理，从工作票到倒查、从检查到隐患闭环，都在这里。
home-system = 系统状态
home-version = 版本
home-database = 数据库
home-backend = { $backend ->
    [sqlite] 内嵌 SQLite
   *[other] PostgreSQL
}
home-schema = 数据库结构版本

error-status = 错误 { $status }
error-request-id = 请求编号：{ $id }（反馈问题时请提供）
error-back-home = 返回首页
error-not-found = 找不到您要的页面或资源。
error-method-not-allowed = 该地址不支持这种请求方式。
error-invalid-request = 请求内容有误，请检查后重试。
error-payload-too-large = 提交的内容太大，超过了系统允许的上限。
error-unsupported-media-type = 不支持提交的内容格式。
error-cross-site = 请求来自其他网站，已被拒绝。请从本系统的页面重新操作。
error-unavailable = 系统暂时无法服务，请稍后再试。
error-internal = 系统内部错误，已记录。请稍后再试，或把请求编号告知管理员。

cli-failed = 运行失败：{ $cause }
settings-load-failed = 无法读取配置：{ $cause }
settings-invalid = 配置无效，请修改以下各项：
start-connect-failed = 无法连接数据库 { $url }：{ $cause }
start-schema-behind = 数据库结构版本为 { $current }，本程序需要版本 { $latest }。请先运行：gridsafe migrate --database-url '{ $url }'
start-schema-problem = 数据库结构有问题：{ $cause }
start-not-durable = 数据库没有以断电不丢数据的方式运行（{ $settings }）。SQLite 需要 WAL 且 synchronous=FULL，PostgreSQL 需要 fsync 和 synchronous_commit 开启。若确实要这样运行，请加 --unsafe-durability。
start-listen-failed = 无法监听 { $addr }：{ $cause }
start-listening = GridSafe 已启动：{ $url }
migrate-applied = 已应用迁移 { $version }（{ $name }）
migrate-done = 数据库结构已是最新（版本 { $version }，本次应用 { $count } 个迁移）。
migrate-incomplete = 迁移未完成，数据库结构停在版本 { $version }。
