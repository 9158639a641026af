//! Routes that state what they need: every route is declared with its [`Permission`], so the guard can check each
//! request and a test can walk every route as every role; and the look-ups a service gives the guard (the person
//! behind a record, the area a record belongs to).

use axum::Router;
use axum::routing::MethodRouter;
use casetrack_proto::Role;

/// What a route needs. Each role's reach is [`Permission::allows`]; the table in `docs/adr/0007` says the same in
/// words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    /// Anyone, signed in or not: health checks, assets, the public self-referral form, sign-in.
    Public,
    /// Any signed-in account: home, own password, sign-out.
    SignedIn,
    /// Anyone who works cases: hub officers and managers, caseworkers and service managers.
    Casework,
    /// The hub's referrals and the people directory: hub officers and hub managers.
    HubWork,
    /// The hub's oversight (break-glass list, data-protection requests): hub managers.
    HubManagement,
    /// One specialist service's cases, the `{service}` of the path: its caseworkers and its manager.
    ServiceWork,
    /// One specialist service's oversight: its manager.
    ServiceManagement,
    /// Aggregate figures, never a person: commissioners, hub managers and service managers.
    Figures,
    /// The audit trail: auditors.
    Audit,
    /// Accounts: administrators (and nothing of cases).
    Accounts,
}

impl Permission {
    /// Every permission, for the route walk and the documentation.
    pub const ALL: [Self; 10] = [
        Self::Public,
        Self::SignedIn,
        Self::Casework,
        Self::HubWork,
        Self::HubManagement,
        Self::ServiceWork,
        Self::ServiceManagement,
        Self::Figures,
        Self::Audit,
        Self::Accounts,
    ];

    /// The permission's code, as `casetrack admin routes` prints it.
    pub fn code(self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::SignedIn => "signed_in",
            Self::Casework => "casework",
            Self::HubWork => "hub_work",
            Self::HubManagement => "hub_management",
            Self::ServiceWork => "service_work",
            Self::ServiceManagement => "service_management",
            Self::Figures => "figures",
            Self::Audit => "audit",
            Self::Accounts => "accounts",
        }
    }

    /// Whether `role` may use a route needing this permission, for the `{service}` of the path when it has one.
    pub fn allows(self, role: &Role, service: Option<&str>) -> bool {
        let own_service = |s: &casetrack_proto::ServiceCode| service == Some(s.as_str());
        match self {
            Self::Public | Self::SignedIn => !matches!(role, Role::Public | Role::System),
            Self::Casework => {
                matches!(role, Role::HubOfficer | Role::HubManager | Role::Caseworker(_) | Role::ServiceManager(_))
            }
            Self::HubWork => matches!(role, Role::HubOfficer | Role::HubManager),
            Self::HubManagement => matches!(role, Role::HubManager),
            Self::ServiceWork => match role {
                Role::Caseworker(s) | Role::ServiceManager(s) => own_service(s),
                _ => false,
            },
            Self::ServiceManagement => matches!(role, Role::ServiceManager(s) if own_service(s)),
            Self::Figures => matches!(role, Role::Commissioner | Role::HubManager | Role::ServiceManager(_)),
            Self::Audit => matches!(role, Role::Auditor),
            Self::Accounts => matches!(role, Role::Administrator),
        }
    }

    /// Break-glass applies to views of case records only, and only for people who work cases.
    pub(crate) fn breakable(self, role: &Role) -> bool {
        matches!(self, Self::HubWork | Self::ServiceWork) && Self::Casework.allows(role, None)
    }
}

/// One declared route: its path (as matched, with placeholders), what it needs, and whether a view of it shows a
/// person's record (such views are written to the audit trail; every command is, whatever the route).
#[derive(Debug, Clone)]
pub struct RouteRule {
    pub path: String,
    pub permission: Permission,
    pub person_level: bool,
}

/// A router whose every route states its permission.
pub struct Routes<S = ()> {
    router: Router<S>,
    rules: Vec<RouteRule>,
}

impl<S: Clone + Send + Sync + 'static> Default for Routes<S> {
    fn default() -> Self {
        Self { router: Router::new(), rules: Vec::new() }
    }
}

impl<S: Clone + Send + Sync + 'static> Routes<S> {
    pub fn new() -> Self {
        Self::default()
    }

    /// A route that shows no person's record (a list of work is person-level: use [`Routes::person`]).
    pub fn route(self, path: &str, permission: Permission, handler: MethodRouter<S>) -> Self {
        self.add(path, permission, false, handler)
    }

    /// A route whose views show a person's record: every view is written to the audit trail.
    pub fn person(self, path: &str, permission: Permission, handler: MethodRouter<S>) -> Self {
        self.add(path, permission, true, handler)
    }

    fn add(mut self, path: &str, permission: Permission, person_level: bool, handler: MethodRouter<S>) -> Self {
        self.router = self.router.route(path, handler);
        self.rules.push(RouteRule { path: path.to_owned(), permission, person_level });
        self
    }

    pub fn merge(mut self, other: Routes<S>) -> Self {
        self.router = self.router.merge(other.router);
        self.rules.extend(other.rules);
        self
    }

    /// Gives the routes their state.
    pub fn with_state<S2: Clone + Send + Sync + 'static>(self, state: S) -> Routes<S2> {
        Routes { router: self.router.with_state(state), rules: self.rules }
    }
}

impl Routes<()> {
    pub fn into_parts(self) -> (Router, Vec<RouteRule>) {
        (self.router, self.rules)
    }
}

/// How to find the person behind a record id of a path: `sql` takes the id as `$1` and returns `person_id`.
#[derive(Debug, Clone, Copy)]
pub struct PersonLookup {
    pub param: &'static str,
    pub sql: &'static str,
}

/// How break-glass finds the area a record belongs to (`hub`, or a specialist service's code): `sql` takes the
/// record's id as `$1` and returns the area. The area is always the record's own, never what a form says, so a
/// grant is listed for the manager of the service whose record was opened.
#[derive(Debug, Clone, Copy)]
pub struct RecordArea {
    pub sql: &'static str,
}
