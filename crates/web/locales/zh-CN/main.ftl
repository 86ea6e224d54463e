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
start-app-failed = 无法初始化应用：{ $cause }
first-start-root-unit = 本单位
first-start-admin =
    ================================================================
    首次启动：已创建系统管理员账号（仅显示这一次，请妥善记录）
      用户名：{ $username }
      初始密码：{ $password }
    首次登录后必须修改密码。
    ================================================================
cli-unknown-unit = 找不到单位编码 { $code }
cli-user-created = 已创建账号 { $username }，初始密码：{ $password }（首次登录后必须修改）
cli-checkpoint = 已签名审计链检查点（事件序号 { $seq }；0 表示没有新事件）
cli-verify-intact = 审计日志完整：已校验 { $events } 条事件、{ $checkpoints } 个签名检查点。
cli-verify-broken = 审计日志已被篡改：{ $problem }

nav-units = 组织机构
nav-users = 用户
nav-roles = 角色权限
nav-accounts = 账号审查
nav-audit = 审计日志
nav-password = 修改密码
nav-tokens = API 令牌
nav-logout = 退出登录
home-welcome = { $name }，您好。

action-create = 新建
action-save = 保存
action-search = 查询
action-grant = 授予
action-revoke = 收回
action-disable = 停用账号
action-enable = 启用账号
action-reset-password = 重置密码
list-empty = 暂无记录。
list-more = 更早的记录
error-back = 返回上一页

error-unauthenticated = 请先登录。
error-forbidden = 您没有执行此操作的权限。
error-denied-permission = 您没有“{ $permission }”权限，已记录本次访问。
error-denied-scope = 该记录属于您管辖范围以外的单位（权限“{ $permission }”），已记录本次访问。
error-password-change-required = 请先修改密码。
error-conflict = 操作与现有数据冲突。
error-rule-violation = 该操作违反了一条规则，未执行。
error-too-many-requests = 尝试次数太多，请稍后再试。
error-invalid-json = 请求内容不是有效的 JSON：{ $cause }

rule-label = 规则：
rule-source = 依据：
rule-fix = 如何处理：
rule-ADMIN_SEPARATION = 系统管理员、安全管理员、审计员三个角色不能由同一账号兼任。
rule-ADMIN_SEPARATION-fix = 为另一个管理员角色另建一个账号，或先收回该账号现有的管理员角色。
rule-PASSWORD_POLICY = 密码必须符合口令策略。
rule-PASSWORD_POLICY-fix = 使用至少 8 位、包含大写字母、小写字母、数字、符号中至少三类的密码。
rule-LOGIN_LOCKOUT = 连续登录失败次数过多，账号被临时锁定。
rule-LOGIN_LOCKOUT-fix = 等待锁定期结束，或请安全管理员解锁。
rule-DORMANT_ACCOUNT = 长期未登录的账号会被标记并停用。
rule-DORMANT_ACCOUNT-fix = 请账号所有人登录，或由系统管理员确认后重新启用。
rule-UNIT_TREE = 新单位必须挂在您管辖范围内的上级单位之下。
rule-UNIT_TREE-fix = 选择一个上级单位；只有管辖全部单位的管理员可以新建顶级单位。

field-required = 此项必填。
field-code-format = 编码须为 1–32 位字母、数字、“-”或“_”。
field-name-length = 名称须为 1–{ $max } 个字符。
field-unit-kind = 单位类型无效。
field-username-format = 用户名须为 2–40 位字母、数字、“.”、“-”或“_”。
conflict-unit-code = 该单位编码已被使用。
conflict-username = 该用户名已被使用。
conflict-role-held = 该用户在此单位已有这个角色。
conflict-disable-self = 不能停用自己的账号。

login-title = 登录
login-username = 用户名
login-password = 密码
login-submit = 登录
login-bad-credentials = 用户名或密码不正确。
login-disabled = 该账号已停用，请联系系统管理员。
login-locked = 连续登录失败次数过多，账号已锁定至 { $until }。
login-rate-limited = 本机登录尝试过于频繁，请 { $minutes } 分钟后再试。

password-title = 修改密码
password-forced = 为了账号安全，请先设置新密码再继续使用。
password-done = 密码已修改，其他设备上的登录已全部退出。
password-current = 当前密码
password-new = 新密码
password-confirm = 再次输入新密码
password-submit = 修改密码
password-policy-hint = 至少 8 位，包含大写字母、小写字母、数字、符号中至少三类，不能包含用户名。
password-confirm-mismatch = 两次输入的新密码不一致。
password-current-wrong = 当前密码不正确。
password-same-as-old = 新密码不能与当前密码相同。
password-too-short = 密码至少需要 8 个字符。
password-too-long = 密码不能超过 128 个字符。
password-too-few-classes = 密码须包含大写字母、小写字母、数字、符号中至少三类。
password-contains-username = 密码不能包含用户名。

tokens-title = API 令牌
tokens-intro = 供其他系统调用 GridSafe 接口使用。令牌只拥有您勾选的权限，到期自动失效，可随时收回。
tokens-created = 令牌已创建。请立即复制保存，它不会再次显示：
tokens-name = 名称
tokens-permissions = 权限
tokens-expires = 到期
tokens-last-used = 最近使用
tokens-revoke = 收回
tokens-revoked = 已收回
tokens-none = 还没有令牌。
tokens-new = 新建令牌
tokens-create = 创建令牌
tokens-no-permissions = 您当前没有可授予令牌的权限。
tokens-valid-days = 有效天数（最多 { $max } 天）
token-valid-days = 有效天数须在 1–{ $max } 之间。

units-title = 组织机构
units-name = 名称
units-code = 编码
units-kind = 类型
units-rename = 改名
units-new = 新建单位
units-parent = 上级单位
unit-kind-province = 省公司
unit-kind-city = 市公司
unit-kind-county = 县公司/供电中心
unit-kind-team = 班组

users-title = 用户
users-search = 按用户名或姓名查询
users-username = 用户名
users-name = 姓名
users-unit = 单位
users-roles = 角色
users-role = 角色
users-at-unit = 所在单位（含下级）
users-status = 状态
users-new = 新建用户
users-created = 已创建账号 { $username }。
users-initial-password = 初始密码（仅显示这一次，首次登录须修改）：
users-password-was-reset = 密码已重置，新的初始密码（仅显示这一次）：
users-last-login = 最近登录
users-last-review = 最近权限审查
users-no-roles = 暂无角色。
users-account = 账号
users-disable-reason = 停用原因
user-status-active = 正常
user-status-locked = 已锁定
user-status-dormant = 长期未登录
user-status-disabled = 已停用

roles-title = 角色权限
roles-intro = 每个角色授予哪些权限可在此调整，保存后立即对持有该角色的所有账号生效，并记入审计日志。
admin-class-system = 系统管理
admin-class-security = 安全管理
admin-class-audit = 审计
role-system_admin = 系统管理员
role-security_admin = 安全管理员
role-log_auditor = 审计员
role-safety_auditor = 营销安全稽查员
role-customer_manager = 客户经理
role-inspector = 用电检查员
role-ticket_issuer = 工作票签发人
role-work_leader = 工作负责人
role-work_permitter = 工作许可人
role-crew_member = 工作班成员
role-contractor_admin = 外包单位管理员
role-leader = 领导
perm-units-manage = 维护组织机构
perm-users-view = 查看用户
perm-users-manage = 管理用户与角色
perm-roles-manage = 调整角色权限
perm-accounts-review = 账号审查与解锁
perm-audit-read = 查阅与校验审计日志

accounts-title = 账号审查
accounts-rule = 超过 { $days } 天未登录的账号会被标记为“长期未登录”，
accounts-notice = 标记 { $days } 天后仍未登录则自动停用。
accounts-attention = 需要关注的账号
accounts-active = 正常账号
accounts-review-note = 审查意见（可选）
accounts-record-review = 记录权限审查
accounts-unlock = 解锁

audit-title = 审计日志
audit-verify = 校验审计链
audit-actor = 操作人
audit-action = 动作
audit-record-kind = 记录类型
audit-record = 记录
audit-channel = 渠道
audit-any = 全部
audit-from = 起始日期
audit-to = 截止日期
audit-time = 时间
audit-summary = 变更内容
audit-intact = 审计链完整，未发现篡改。
audit-broken = 审计链已被破坏：
audit-events-checked = 已校验事件
audit-checkpoints-checked = 已校验签名检查点
audit-range = 事件序号范围
audit-key-id = 签名密钥标识
audit-verify-cli = 也可在服务器上运行：
audit-problem-missing = 第 { $seq } 条事件缺失（被删除或截断）。
audit-problem-altered = 第 { $seq } 条事件的内容被修改过。
audit-problem-broken-link = 第 { $seq } 条事件与前一条事件衔接不上（被插入或调换）。
audit-problem-unknown-algorithm = 第 { $seq } 条事件使用了未知的哈希算法。
audit-problem-bad-signature = 序号 { $seq } 处的检查点签名无效。
audit-problem-rewritten = 第 { $since } 条之后、第 { $seq } 条及之前的事件在签名后被整体改写过。
audit-problem-bad-anchor = 清理后的起点（第 { $seq } 条）不是有效的签名检查点。
error-session-only = 此操作只能在登录后的浏览器中进行，不能使用 API 令牌。
users-password-generated = 初始密码由系统生成，创建后只显示一次；用户首次登录时必须修改。
token-permission-unknown = 没有“{ $permission }”这种权限。
