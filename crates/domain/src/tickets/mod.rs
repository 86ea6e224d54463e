//! Work tickets and cards (工作票/工作卡): the document catalogue, the lifecycle as a state
//! machine whose every step names the rule that refuses it, and the evaluation (评价) of
//! executed tickets.
//!
//! Everything here is pure. The application gathers the facts (the ticket, the people on it and
//! their qualifications, the other tickets holding them) and asks [`lifecycle::check`] whether a
//! step may be taken by a person at an instant; the answer is the new state or every reason why not.

pub mod evaluation;
pub mod lifecycle;
pub mod window;

use serde::{Deserialize, Serialize};

pub use lifecycle::{Busy, Member, Planning, Roster, Step, StepKind, Ticket, check, lapse, offered};
pub use window::{Span, Times};

/// An entry of the document catalogue (票种目录), maintained as data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocumentType {
    pub code: String,
    pub name: String,
    /// The marketing order types (`marketing-export.md`) this document may cover.
    pub covers: Vec<String>,
    /// Whether the validity may be extended (once). Never for live work.
    pub extendable: bool,
    /// Whether a site survey record (现场勘察记录) is needed before issue.
    pub needs_survey: bool,
    /// Live work (带电作业): never extended.
    pub live_work: bool,
    /// Numbers are `PREFIX-YYYYMM-NNNN`.
    pub prefix: String,
    /// Fewest people on the work, the leader included.
    pub min_people: u32,
}

/// Where a ticket is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// 填写
    Draft,
    /// 签发
    Issued,
    /// 接票
    Received,
    /// 许可
    Permitted,
    /// 开工（已交底）
    Started,
    /// 间断
    Interrupted,
    /// 工作终结
    WorkEnded,
    /// 工作票终结 (已执行)
    Closed,
    /// 未执行
    NotExecuted,
    /// 作废
    Void,
}

impl State {
    pub const ALL: [State; 10] = [
        State::Draft,
        State::Issued,
        State::Received,
        State::Permitted,
        State::Started,
        State::Interrupted,
        State::WorkEnded,
        State::Closed,
        State::NotExecuted,
        State::Void,
    ];

    pub fn code(self) -> &'static str {
        match self {
            State::Draft => "draft",
            State::Issued => "issued",
            State::Received => "received",
            State::Permitted => "permitted",
            State::Started => "started",
            State::Interrupted => "interrupted",
            State::WorkEnded => "work_ended",
            State::Closed => "closed",
            State::NotExecuted => "not_executed",
            State::Void => "void",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        State::ALL.into_iter().find(|s| s.code() == code)
    }

    /// No step leads out of it.
    pub fn is_final(self) -> bool {
        matches!(self, State::Closed | State::NotExecuted | State::Void)
    }

    /// The ticket binds its leader and crew for its window: issued and not yet finished.
    pub fn holds_people(self) -> bool {
        matches!(self, State::Issued | State::Received | State::Permitted | State::Started | State::Interrupted)
    }

    /// Work was permitted and not yet ended.
    pub fn permitted(self) -> bool {
        matches!(self, State::Permitted | State::Started | State::Interrupted)
    }
}
