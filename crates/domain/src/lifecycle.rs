//! The task and placement state machines: where a task ([`TaskStatus`]) and
//! a citizen's placement on it ([`PlacementState`]) are in their lives, and
//! which actions ([`task_transition`], [`placement_transition`]) move them on.
//!
//! The state machines only answer "may this happen, and what is the state
//! afterwards"; storing the new state, and counting the approved placements
//! that [`has_free_position`] needs, is the caller's job (inside one
//! transaction, so two approvals cannot both take the last seat).

use serde::{Deserialize, Serialize};

/// Why a state change is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum TransitionError {
    /// The action is not possible from the current state, whoever asks.
    #[error("cannot {action} a {entity} that is {from}")]
    Illegal {
        /// What is being changed: `"task"` or `"placement"`.
        entity: &'static str,
        /// The current state's code, or `"none"` for a placement that does
        /// not exist yet.
        from: &'static str,
        /// The refused action's code.
        action: &'static str,
    },
    /// The action is possible from the current state, but not for this
    /// kind of user.
    #[error("your role may not {action} this placement")]
    WrongActor {
        /// The refused action's code.
        action: &'static str,
    },
}

impl TransitionError {
    /// Stable snake_case code for API error responses.
    pub fn code(self) -> &'static str {
        match self {
            TransitionError::Illegal { .. } => "illegal_transition",
            TransitionError::WrongActor { .. } => "wrong_actor",
        }
    }
}

/// Where a task is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    /// Being written by the company or coordinator; not visible to citizens.
    Draft,
    /// Published; citizens can show interest and be offered it.
    Open,
    /// Every position is taken; no new matching.
    Filled,
    /// The work is done.
    Completed,
    /// Called off.
    Cancelled,
}

crate::coded_enum!(TaskStatus, "task status" {
    Draft => "draft",
    Open => "open",
    Filled => "filled",
    Completed => "completed",
    Cancelled => "cancelled",
});

impl TaskStatus {
    /// True for the states no action leaves.
    pub fn is_terminal(self) -> bool {
        matches!(self, TaskStatus::Completed | TaskStatus::Cancelled)
    }
}

/// Something done to a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskAction {
    /// Publish a draft.
    Open,
    /// Mark an open task as fully staffed.
    Fill,
    /// Open a filled task again (e.g. after a placement was cancelled).
    Reopen,
    /// Mark the work as done.
    Complete,
    /// Call the task off.
    Cancel,
}

crate::coded_enum!(TaskAction, "task action" {
    Open => "open",
    Fill => "fill",
    Reopen => "reopen",
    Complete => "complete",
    Cancel => "cancel",
});

/// The status after `action`, or why it is refused:
/// draft →open→ open →fill→ filled →reopen→ open; open or filled →complete→
/// completed; draft, open or filled →cancel→ cancelled.
pub fn task_transition(status: TaskStatus, action: TaskAction) -> Result<TaskStatus, TransitionError> {
    use TaskAction as A;
    use TaskStatus as S;
    match (status, action) {
        (S::Draft, A::Open) => Ok(S::Open),
        (S::Open, A::Fill) => Ok(S::Filled),
        (S::Filled, A::Reopen) => Ok(S::Open),
        // A draft was never published, so there is nothing to complete.
        (S::Open | S::Filled, A::Complete) => Ok(S::Completed),
        (S::Draft | S::Open | S::Filled, A::Cancel) => Ok(S::Cancelled),
        _ => Err(TransitionError::Illegal { entity: "task", from: status.as_str(), action: action.as_str() }),
    }
}

/// Where a citizen's placement on a task is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlacementState {
    /// The citizen asked for the task.
    Interested,
    /// The coordinator offered the task to the citizen.
    Offered,
    /// The citizen accepted the offer; awaiting the coordinator's approval.
    Accepted,
    /// The citizen turned the offer down.
    Declined,
    /// The coordinator approved the placement; it holds a position.
    Approved,
    /// The coordinator did not approve the accepted placement.
    Rejected,
    /// Called off before the work was done.
    Cancelled,
    /// The citizen did not turn up.
    NoShow,
    /// The work was done.
    Completed,
}

crate::coded_enum!(PlacementState, "placement state" {
    Interested => "interested",
    Offered => "offered",
    Accepted => "accepted",
    Declined => "declined",
    Approved => "approved",
    Rejected => "rejected",
    Cancelled => "cancelled",
    NoShow => "no_show",
    Completed => "completed",
});

/// Where a report of the hours worked on one shift stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportStatus {
    /// Reported, awaiting the other side's answer.
    Reported,
    /// Confirmed by the other side; it became a payout.
    Confirmed,
    /// Disputed by the other side; the reporting side reports the shift again.
    Disputed,
}

crate::coded_enum!(ReportStatus, "hours report status" {
    Reported => "reported",
    Confirmed => "confirmed",
    Disputed => "disputed",
});

impl PlacementState {
    /// True if the placement takes one of the task's positions (only an
    /// approved placement does; accepting alone reserves nothing).
    pub fn holds_position(self) -> bool {
        self == PlacementState::Approved
    }

    /// True while the placement can still lead to work.
    pub fn is_live(self) -> bool {
        matches!(
            self,
            PlacementState::Interested | PlacementState::Offered | PlacementState::Accepted | PlacementState::Approved
        )
    }

    /// True for the states no action leaves. A citizen who declined can be
    /// offered the task again only through a new placement, which keeps the
    /// history of the old one intact.
    pub fn is_terminal(self) -> bool {
        !self.is_live()
    }
}

/// Something done to a placement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlacementAction {
    /// A citizen asks for a task.
    ShowInterest,
    /// The coordinator offers a task to a citizen.
    Offer,
    /// The citizen accepts an offer.
    Accept,
    /// The citizen turns an offer down.
    Decline,
    /// The coordinator approves an accepted placement.
    Approve,
    /// The coordinator refuses an accepted placement.
    Reject,
    /// Call the placement off.
    Cancel,
    /// Record that the citizen did not turn up.
    NoShow,
    /// Record that the work was done.
    Complete,
}

crate::coded_enum!(PlacementAction, "placement action" {
    ShowInterest => "show_interest",
    Offer => "offer",
    Accept => "accept",
    Decline => "decline",
    Approve => "approve",
    Reject => "reject",
    Cancel => "cancel",
    NoShow => "no_show",
    Complete => "complete",
});

/// The kind of user asking for a change (the JWT role).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Actor {
    /// Municipality or NGO staff.
    Coordinator,
    /// The company that owns the task.
    Company,
    /// The citizen the placement is for.
    Citizen,
}

crate::coded_enum!(Actor, "actor" {
    Coordinator => "coordinator",
    Company => "company",
    Citizen => "citizen",
});

/// The state after `actor` does `action` to a placement in `state` (`None`
/// for a placement that does not exist yet), or why it is refused.
///
/// | from | action | by | to |
/// |---|---|---|---|
/// | none | show_interest | citizen | interested |
/// | none, interested | offer | coordinator | offered |
/// | interested | cancel | citizen, coordinator | cancelled |
/// | offered | accept / decline | citizen | accepted / declined |
/// | offered | cancel | coordinator | cancelled |
/// | accepted | approve / reject | coordinator | approved / rejected |
/// | accepted | cancel | coordinator, citizen | cancelled |
/// | approved | cancel / no_show / complete | coordinator, company | cancelled / no_show / completed |
///
/// Anything else is [`TransitionError::Illegal`]; a row above asked for by
/// someone not in its "by" column is [`TransitionError::WrongActor`]. This
/// function does not check positions: before approving, the caller must
/// check [`has_free_position`] in the same transaction.
pub fn placement_transition(
    state: Option<PlacementState>,
    action: PlacementAction,
    actor: Actor,
) -> Result<PlacementState, TransitionError> {
    use Actor::{Citizen, Company, Coordinator};
    use PlacementAction as A;
    use PlacementState as S;
    let (next, allowed): (PlacementState, &[Actor]) = match (state, action) {
        (None, A::ShowInterest) => (S::Interested, &[Citizen]),
        (None | Some(S::Interested), A::Offer) => (S::Offered, &[Coordinator]),
        // A citizen withdraws interest, or the coordinator closes it.
        (Some(S::Interested), A::Cancel) => (S::Cancelled, &[Citizen, Coordinator]),
        (Some(S::Offered), A::Accept) => (S::Accepted, &[Citizen]),
        (Some(S::Offered), A::Decline) => (S::Declined, &[Citizen]),
        // The citizen answers an offer by declining, not cancelling.
        (Some(S::Offered), A::Cancel) => (S::Cancelled, &[Coordinator]),
        (Some(S::Accepted), A::Approve) => (S::Approved, &[Coordinator]),
        (Some(S::Accepted), A::Reject) => (S::Rejected, &[Coordinator]),
        (Some(S::Accepted), A::Cancel) => (S::Cancelled, &[Coordinator, Citizen]),
        // Once approved, the employment is between company and coordinator.
        (Some(S::Approved), A::Cancel) => (S::Cancelled, &[Coordinator, Company]),
        (Some(S::Approved), A::NoShow) => (S::NoShow, &[Coordinator, Company]),
        (Some(S::Approved), A::Complete) => (S::Completed, &[Coordinator, Company]),
        _ => {
            return Err(TransitionError::Illegal {
                entity: "placement",
                from: state.map_or("none", PlacementState::as_str),
                action: action.as_str(),
            });
        }
    };
    if allowed.contains(&actor) { Ok(next) } else { Err(TransitionError::WrongActor { action: action.as_str() }) }
}

/// True if a task with `positions` positions, `approved` of them taken by
/// approved placements, can take one more approval.
pub fn has_free_position(approved: u32, positions: u32) -> bool {
    approved < positions
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use proptest::prelude::*;
    use serde_json::{from_value, json, to_value};

    // --- task transitions ---------------------------------------------------------------

    #[test]
    fn the_task_transition_table_is_exactly_as_documented() {
        use TaskAction as A;
        use TaskStatus as S;
        let table = [
            (S::Draft, A::Open, S::Open),
            (S::Open, A::Fill, S::Filled),
            (S::Filled, A::Reopen, S::Open),
            (S::Open, A::Complete, S::Completed),
            (S::Filled, A::Complete, S::Completed),
            (S::Draft, A::Cancel, S::Cancelled),
            (S::Open, A::Cancel, S::Cancelled),
            (S::Filled, A::Cancel, S::Cancelled),
        ];
        for status in TaskStatus::ALL {
            for action in TaskAction::ALL {
                let expected =
                    table.iter().find(|(f, a, _)| *f == status && *a == action).map(|(_, _, to)| *to).ok_or(
                        TransitionError::Illegal { entity: "task", from: status.as_str(), action: action.as_str() },
                    );
                assert_eq!(task_transition(status, action), expected, "{status} + {action}");
            }
        }
        for status in TaskStatus::ALL.into_iter().filter(|s| s.is_terminal()) {
            assert!(TaskAction::ALL.into_iter().all(|a| task_transition(status, a).is_err()));
        }
    }

    #[test]
    fn refused_task_transitions_say_what_was_refused() {
        let err = task_transition(TaskStatus::Completed, TaskAction::Reopen).unwrap_err();
        assert_eq!(err.to_string(), "cannot reopen a task that is completed");
        assert_eq!(err.code(), "illegal_transition");
    }

    #[test]
    fn task_statuses_and_actions_round_trip_as_snake_case() {
        for st in TaskStatus::ALL {
            assert_eq!(TaskStatus::parse(st.as_str()), Some(st));
            assert_eq!(to_value(st).unwrap(), json!(st.as_str()));
            assert_eq!(from_value::<TaskStatus>(json!(st.as_str())).unwrap(), st);
        }
        for a in TaskAction::ALL {
            assert_eq!(TaskAction::parse(a.as_str()), Some(a));
        }
        assert_eq!(TaskStatus::parse("Open"), None);
        assert_eq!(TaskStatus::ALL.len(), 5);
        assert_eq!(TaskAction::ALL.len(), 5);
    }

    // --- placement transitions ------------------------------------------------------------

    use Actor::{Citizen, Company, Coordinator};
    use PlacementAction as PA;
    use PlacementState as PS;

    /// The placement table as specified, written out independently of the
    /// implementation so that each checks the other.
    const PLACEMENT_TABLE: &[(Option<PlacementState>, PlacementAction, PlacementState, &[Actor])] = &[
        (None, PA::ShowInterest, PS::Interested, &[Citizen]),
        (None, PA::Offer, PS::Offered, &[Coordinator]),
        (Some(PS::Interested), PA::Offer, PS::Offered, &[Coordinator]),
        (Some(PS::Interested), PA::Cancel, PS::Cancelled, &[Citizen, Coordinator]),
        (Some(PS::Offered), PA::Accept, PS::Accepted, &[Citizen]),
        (Some(PS::Offered), PA::Decline, PS::Declined, &[Citizen]),
        (Some(PS::Offered), PA::Cancel, PS::Cancelled, &[Coordinator]),
        (Some(PS::Accepted), PA::Approve, PS::Approved, &[Coordinator]),
        (Some(PS::Accepted), PA::Reject, PS::Rejected, &[Coordinator]),
        (Some(PS::Accepted), PA::Cancel, PS::Cancelled, &[Coordinator, Citizen]),
        (Some(PS::Approved), PA::Cancel, PS::Cancelled, &[Coordinator, Company]),
        (Some(PS::Approved), PA::NoShow, PS::NoShow, &[Coordinator, Company]),
        (Some(PS::Approved), PA::Complete, PS::Completed, &[Coordinator, Company]),
    ];

    fn table_row(state: Option<PlacementState>, action: PlacementAction) -> Option<(PlacementState, &'static [Actor])> {
        PLACEMENT_TABLE.iter().find(|(f, a, _, _)| *f == state && *a == action).map(|(_, _, to, by)| (*to, *by))
    }

    fn all_placement_states() -> Vec<Option<PlacementState>> {
        std::iter::once(None).chain(PlacementState::ALL.map(Some)).collect()
    }

    #[test]
    fn the_placement_transition_table_is_exactly_as_documented_for_every_actor() {
        let mut permitted = 0;
        let mut cases = 0;
        for state in all_placement_states() {
            for action in PlacementAction::ALL {
                for actor in Actor::ALL {
                    cases += 1;
                    let expected = match table_row(state, action) {
                        Some((to, by)) if by.contains(&actor) => Ok(to),
                        Some(_) => Err(TransitionError::WrongActor { action: action.as_str() }),
                        None => Err(TransitionError::Illegal {
                            entity: "placement",
                            from: state.map_or("none", PlacementState::as_str),
                            action: action.as_str(),
                        }),
                    };
                    permitted += usize::from(expected.is_ok());
                    assert_eq!(placement_transition(state, action, actor), expected, "{state:?} + {action} by {actor}");
                }
            }
        }
        assert_eq!(cases, 10 * 9 * 3);
        assert_eq!(permitted, 18);
    }

    #[test]
    fn terminal_placements_accept_no_action_from_anyone() {
        let terminal: Vec<_> = PlacementState::ALL.into_iter().filter(|s| s.is_terminal()).collect();
        assert_eq!(terminal, [PS::Declined, PS::Rejected, PS::Cancelled, PS::NoShow, PS::Completed]);
        for state in terminal {
            for action in PlacementAction::ALL {
                for actor in Actor::ALL {
                    let err = placement_transition(Some(state), action, actor).unwrap_err();
                    assert_eq!(err.code(), "illegal_transition");
                }
            }
        }
    }

    #[test]
    fn only_an_approved_placement_holds_a_position() {
        let holding: Vec<_> = PlacementState::ALL.into_iter().filter(|s| s.holds_position()).collect();
        assert_eq!(holding, [PS::Approved]);
        let live: Vec<_> = PlacementState::ALL.into_iter().filter(|s| s.is_live()).collect();
        assert_eq!(live, [PS::Interested, PS::Offered, PS::Accepted, PS::Approved]);
    }

    #[test]
    fn refused_placement_transitions_say_what_was_refused() {
        let err = placement_transition(None, PA::Accept, Citizen).unwrap_err();
        assert_eq!(err.to_string(), "cannot accept a placement that is none");
        let err = placement_transition(Some(PS::Declined), PA::NoShow, Company).unwrap_err();
        assert_eq!(err.to_string(), "cannot no_show a placement that is declined");
        let err = placement_transition(Some(PS::Offered), PA::Accept, Company).unwrap_err();
        assert_eq!(err, TransitionError::WrongActor { action: "accept" });
        assert_eq!(err.code(), "wrong_actor");
        assert_eq!(err.to_string(), "your role may not accept this placement");
    }

    #[test]
    fn placement_codes_round_trip_as_snake_case() {
        for st in PlacementState::ALL {
            assert_eq!(PlacementState::parse(st.as_str()), Some(st));
            assert_eq!(to_value(st).unwrap(), json!(st.as_str()));
            assert_eq!(from_value::<PlacementState>(json!(st.as_str())).unwrap(), st);
        }
        for a in PlacementAction::ALL {
            assert_eq!(PlacementAction::parse(a.as_str()), Some(a));
            assert_eq!(to_value(a).unwrap(), json!(a.as_str()));
        }
        for a in Actor::ALL {
            assert_eq!(Actor::parse(a.as_str()), Some(a));
            assert_eq!(from_value::<Actor>(json!(a.as_str())).unwrap(), a);
        }
        assert_eq!(PS::NoShow.as_str(), "no_show");
        assert_eq!(PA::ShowInterest.to_string(), "show_interest");
        assert_eq!(PlacementState::parse("none"), None);
    }

    #[test]
    fn positions_are_free_while_fewer_are_approved_than_there_are() {
        assert!(has_free_position(0, 1));
        assert!(has_free_position(2, 3));
        assert!(!has_free_position(3, 3));
        assert!(!has_free_position(0, 0));
        assert!(!has_free_position(4, 3));
    }

    // --- property tests -------------------------------------------------------------------

    /// One step of the placement model: which placement, what, by whom.
    /// `None` as actor means "someone the table permits", so that random
    /// runs get past the first steps often enough to fill every position.
    type Op = (usize, PlacementAction, Option<Actor>);

    fn op_strategy(placements: usize) -> impl Strategy<Value = Op> {
        let action = prop_oneof![
            2 => Just(PA::ShowInterest),
            3 => Just(PA::Offer),
            4 => Just(PA::Accept),
            1 => Just(PA::Decline),
            5 => Just(PA::Approve),
            1 => Just(PA::Reject),
            2 => Just(PA::Cancel),
            1 => Just(PA::NoShow),
            1 => Just(PA::Complete),
        ];
        let actor = prop_oneof![2 => Just(None), 1 => prop::sample::select(Actor::ALL.to_vec()).prop_map(Some)];
        (0..placements, action, actor)
    }

    fn approved_count(states: &[Option<PlacementState>]) -> u32 {
        states.iter().filter(|s| s.is_some_and(PlacementState::holds_position)).count() as u32
    }

    proptest! {
        #[test]
        fn random_placement_operations_never_overfill_a_task_or_leave_the_table(
            positions in 1u32..=3,
            ops in (1usize..=6).prop_flat_map(|n| prop::collection::vec(op_strategy(n), 0..200).prop_map(move |o| (n, o))),
        ) {
            let (n, ops) = ops;
            let mut states: Vec<Option<PlacementState>> = vec![None; n];
            for (i, action, actor) in ops {
                let before = states[i];
                let approved = approved_count(&states);
                let actor = actor.unwrap_or_else(|| {
                    table_row(before, action).map_or(Coordinator, |(_, by)| by[0])
                });
                // The API's rule: an approval needs a free position, checked
                // in the same transaction as the transition.
                if action == PA::Approve && !has_free_position(approved, positions) {
                    prop_assert_eq!(approved, positions);
                    continue;
                }
                match placement_transition(before, action, actor) {
                    Ok(next) => {
                        prop_assert!(!before.is_some_and(PlacementState::is_terminal), "{:?} left a terminal state", before);
                        let row = table_row(before, action);
                        prop_assert_eq!(row.map(|(to, _)| to), Some(next));
                        prop_assert!(row.is_some_and(|(_, by)| by.contains(&actor)));
                        states[i] = Some(next);
                        let after = approved_count(&states);
                        // Leaving Approved by cancel or no-show frees exactly one position.
                        if before == Some(PS::Approved) {
                            prop_assert_eq!(after + 1, approved);
                            prop_assert!(has_free_position(after, positions));
                        }
                    }
                    Err(_) => prop_assert_eq!(states[i], before),
                }
                prop_assert!(approved_count(&states) <= positions);
            }
        }

        #[test]
        fn cancelling_or_no_show_of_an_approved_placement_lets_a_waiting_one_be_approved(
            positions in 1u32..=4,
            release in prop::sample::select(vec![(PA::Cancel, Coordinator), (PA::Cancel, Company), (PA::NoShow, Coordinator), (PA::NoShow, Company)]),
            which in any::<prop::sample::Index>(),
        ) {
            let n = positions as usize + 1;
            let mut states: Vec<Option<PlacementState>> = vec![None; n];
            for st in &mut states {
                let offered = placement_transition(None, PA::Offer, Coordinator).unwrap();
                *st = Some(placement_transition(Some(offered), PA::Accept, Citizen).unwrap());
            }
            for i in 0..positions as usize {
                prop_assert!(has_free_position(approved_count(&states), positions));
                states[i] = Some(placement_transition(states[i], PA::Approve, Coordinator).unwrap());
            }
            let waiting = n - 1;
            prop_assert!(!has_free_position(approved_count(&states), positions));
            let victim = which.index(positions as usize);
            let (action, actor) = release;
            states[victim] = Some(placement_transition(states[victim], action, actor).unwrap());
            prop_assert!(has_free_position(approved_count(&states), positions));
            states[waiting] = Some(placement_transition(states[waiting], PA::Approve, Coordinator).unwrap());
            prop_assert_eq!(approved_count(&states), positions);
            // The released placement stays released.
            prop_assert!(placement_transition(states[victim], PA::Approve, Coordinator).is_err());
        }
    }
}
