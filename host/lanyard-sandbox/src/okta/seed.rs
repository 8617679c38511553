//! The sandbox org's starting population, made from a seed: the same seed gives
//! the same org, ids included.
//!
//! A company of a few hundred people: a CEO, department heads, managers and
//! their reports across nine departments, with titles, `managerId`, account ages
//! from six years to a day, a few locked, suspended, deactivated, staged and
//! pending users, most active users with one or two MFA factors and some with
//! none, department groups, the seed use cases' app groups (GitHub, Jira,
//! Salesforce, Gong, BambooHR), the built-in Everyone group and an admin group.
//! Apps: those five through their groups, Slack, Google Workspace and Zoom
//! through Everyone, Asana and Workday assigned to people directly.
//! The System Log starts empty.
//!
//! [`extra_users`] adds any number of generated people on top (a large org for
//! scale tests) from a random stream of their own, so the company is the same
//! with or without them.

use chrono::{DateTime, Duration, Utc};
use rand::Rng;
use serde_json::{Map, Value, json};

use super::apps::{AppGroupRec, AppRec, AppUserRec};
use super::state::{FactorRec, OrgState, UserRec};

struct Dept {
    name: &'static str,
    weight: u32,
    head: &'static str,
    manager: &'static str,
    titles: &'static [&'static str],
    cost_center: &'static str,
}

const DEPTS: &[Dept] = &[
    Dept {
        name: "Engineering",
        weight: 30,
        head: "VP of Engineering",
        manager: "Engineering Manager",
        titles: &[
            "Software Engineer",
            "Senior Software Engineer",
            "Staff Engineer",
            "Site Reliability Engineer",
            "QA Engineer",
        ],
        cost_center: "CC-100",
    },
    Dept {
        name: "Sales",
        weight: 17,
        head: "VP of Sales",
        manager: "Sales Manager",
        titles: &[
            "Account Executive",
            "Senior Account Executive",
            "Sales Development Representative",
            "Solutions Engineer",
        ],
        cost_center: "CC-200",
    },
    Dept {
        name: "Marketing",
        weight: 9,
        head: "VP of Marketing",
        manager: "Marketing Manager",
        titles: &[
            "Product Marketing Manager",
            "Content Marketing Specialist",
            "Growth Marketer",
            "Designer",
        ],
        cost_center: "CC-300",
    },
    Dept {
        name: "Support",
        weight: 12,
        head: "Director of Support",
        manager: "Support Manager",
        titles: &[
            "Support Engineer",
            "Senior Support Engineer",
            "Customer Success Manager",
        ],
        cost_center: "CC-400",
    },
    Dept {
        name: "Finance",
        weight: 6,
        head: "Chief Financial Officer",
        manager: "Controller",
        titles: &["Accountant", "Financial Analyst", "Payroll Specialist"],
        cost_center: "CC-500",
    },
    Dept {
        name: "HR",
        weight: 6,
        head: "VP of People",
        manager: "HR Manager",
        titles: &["HR Generalist", "Recruiter", "People Operations Specialist"],
        cost_center: "CC-600",
    },
    Dept {
        name: "IT",
        weight: 7,
        head: "Director of IT",
        manager: "IT Manager",
        titles: &[
            "IT Support Specialist",
            "Systems Administrator",
            "Identity Engineer",
            "Security Analyst",
        ],
        cost_center: "CC-700",
    },
    Dept {
        name: "Legal",
        weight: 4,
        head: "General Counsel",
        manager: "Legal Operations Manager",
        titles: &["Corporate Counsel", "Paralegal", "Contracts Manager"],
        cost_center: "CC-800",
    },
    Dept {
        name: "Product",
        weight: 9,
        head: "VP of Product",
        manager: "Group Product Manager",
        titles: &[
            "Product Manager",
            "Senior Product Manager",
            "Product Designer",
        ],
        cost_center: "CC-900",
    },
];

const FIRST: &[&str] = &[
    "Aaliyah",
    "Aaron",
    "Abigail",
    "Adrian",
    "Aisha",
    "Alejandro",
    "Alex",
    "Amara",
    "Amelia",
    "Andre",
    "Anika",
    "Ava",
    "Benjamin",
    "Bianca",
    "Caleb",
    "Camila",
    "Carlos",
    "Chloe",
    "Daniel",
    "Deepa",
    "Diego",
    "Elena",
    "Eli",
    "Emily",
    "Emma",
    "Ethan",
    "Farah",
    "Gabriel",
    "Grace",
    "Hana",
    "Hiro",
    "Imani",
    "Isaac",
    "Isabella",
    "Jamal",
    "James",
    "Jasmine",
    "Javier",
    "Jin",
    "Jordan",
    "Julia",
    "Kai",
    "Kenji",
    "Laila",
    "Leo",
    "Liam",
    "Lucia",
    "Maya",
    "Mateo",
    "Mia",
    "Mohammed",
    "Nadia",
    "Naomi",
    "Nathan",
    "Nia",
    "Noah",
    "Olivia",
    "Omar",
    "Priya",
    "Rafael",
    "Ravi",
    "Riley",
    "Rosa",
    "Ryan",
    "Samir",
    "Sara",
    "Sofia",
    "Tariq",
    "Thomas",
    "Uma",
    "Valentina",
    "Victor",
    "Wei",
    "Yara",
    "Yusuf",
    "Zara",
    "Zoe",
    "Morgan",
    "Quinn",
    "Avery",
];

const LAST: &[&str] = &[
    "Adams",
    "Ahmed",
    "Alvarez",
    "Anderson",
    "Baker",
    "Bell",
    "Brooks",
    "Carter",
    "Chen",
    "Clark",
    "Cohen",
    "Cruz",
    "Davis",
    "Diaz",
    "Edwards",
    "Evans",
    "Fischer",
    "Flores",
    "Garcia",
    "Gomez",
    "Green",
    "Gupta",
    "Hall",
    "Harris",
    "Hernandez",
    "Hill",
    "Ito",
    "Jackson",
    "Johnson",
    "Kim",
    "Khan",
    "Kowalski",
    "Lee",
    "Lewis",
    "Lopez",
    "Martin",
    "Martinez",
    "Mehta",
    "Miller",
    "Mitchell",
    "Moore",
    "Murphy",
    "Nakamura",
    "Nelson",
    "Nguyen",
    "Okafor",
    "Olsen",
    "Ortiz",
    "Patel",
    "Perez",
    "Peterson",
    "Phillips",
    "Price",
    "Ramirez",
    "Reed",
    "Reyes",
    "Rivera",
    "Roberts",
    "Robinson",
    "Rossi",
    "Sanchez",
    "Santos",
    "Schmidt",
    "Scott",
    "Shah",
    "Silva",
    "Singh",
    "Smith",
    "Sullivan",
    "Tanaka",
    "Taylor",
    "Thompson",
    "Torres",
    "Turner",
    "Walker",
    "Wang",
    "Watson",
    "White",
    "Williams",
    "Wilson",
    "Wright",
    "Yamamoto",
    "Young",
    "Zhang",
];

const CITIES: &[(&str, &str, &str)] = &[
    ("San Francisco", "CA", "US"),
    ("New York", "NY", "US"),
    ("Austin", "TX", "US"),
    ("Chicago", "IL", "US"),
    ("Seattle", "WA", "US"),
    ("Toronto", "ON", "CA"),
    ("London", "", "GB"),
    ("Dublin", "", "IE"),
];

/// The users the sandbox's credentials belong to.
pub struct Seeded {
    /// The human super admin whose API token the CLI prints.
    pub admin_id: String,
    /// lanyard's service account (its own API token).
    pub service_id: String,
    /// A read-only admin (its token can read, not write).
    pub readonly_id: String,
}

struct Person {
    dept: usize,
    title: String,
    manager: Option<usize>,
    created: DateTime<Utc>,
}

/// Fill an empty org with about `count` people (at least 40).
pub fn seed(s: &mut OrgState, now: DateTime<Utc>, count: usize) -> Seeded {
    let count = count.max(40);
    let years = Duration::days(6 * 365);
    let mut people: Vec<Person> = Vec::with_capacity(count + 1);
    people.push(Person {
        dept: usize::MAX,
        title: "Chief Executive Officer".into(),
        manager: None,
        created: now - years,
    });

    // Department sizes by weight; the remainder goes to Engineering.
    let total_weight: u32 = DEPTS.iter().map(|d| d.weight).sum();
    let budget = count - 1;
    let mut sizes: Vec<usize> = DEPTS
        .iter()
        .map(|d| (budget * d.weight as usize / total_weight as usize).max(3))
        .collect();
    let assigned: usize = sizes.iter().sum();
    if assigned < budget {
        sizes[0] += budget - assigned;
    }

    for (di, dept) in DEPTS.iter().enumerate() {
        let size = sizes[di];
        let head = people.len();
        let head_age = Duration::days(s.rng.gen_range(3 * 365..6 * 365));
        people.push(Person {
            dept: di,
            title: dept.head.into(),
            manager: Some(0),
            created: now - head_age,
        });
        let ics = size - 1;
        let managers = ics.div_ceil(9).max(1).min(ics.saturating_sub(1)).max(1);
        let mut manager_idx = Vec::new();
        for _ in 0..managers {
            manager_idx.push(people.len());
            let age = Duration::days(s.rng.gen_range(365..5 * 365));
            people.push(Person {
                dept: di,
                title: dept.manager.into(),
                manager: Some(head),
                created: now - age,
            });
        }
        for i in 0..ics.saturating_sub(managers) {
            let title = dept.titles[s.rng.gen_range(0..dept.titles.len())].to_string();
            let age = Duration::days(s.rng.gen_range(20..6 * 365 - 30));
            people.push(Person {
                dept: di,
                title,
                manager: Some(manager_idx[i % manager_idx.len()]),
                created: now - age,
            });
        }
    }

    // The newest hires: a dozen accounts made in the last two weeks, some
    // only a day or two ago (the MFA reminder's "older than 3 days" matters).
    let fresh: Vec<usize> = (0..people.len())
        .filter(|&i| people[i].title != DEPTS.get(people[i].dept).map_or("", |d| d.head) && i > 0)
        .collect();
    let mut fresh_ids = Vec::new();
    for k in 0..12.min(fresh.len()) {
        let pick = fresh[(k * 37 + 11) % fresh.len()];
        if people[pick].title.contains("Manager") || fresh_ids.contains(&pick) {
            continue;
        }
        let hours = if k < 4 {
            s.rng.gen_range(2..60)
        } else {
            s.rng.gen_range(80..14 * 24)
        };
        people[pick].created = now - Duration::hours(hours);
        fresh_ids.push(pick);
    }

    // Users are listed in creation order, as ids are handed out.
    let mut order: Vec<usize> = (0..people.len()).collect();
    order.sort_by_key(|&i| people[i].created);
    let mut ids = vec![String::new(); people.len()];
    let mut used_logins = std::collections::HashSet::new();
    for &i in &order {
        let first = FIRST[s.rng.gen_range(0..FIRST.len())];
        let last = LAST[s.rng.gen_range(0..LAST.len())];
        let mut login = format!(
            "{}.{}@{}",
            first.to_lowercase(),
            last.to_lowercase(),
            s.domain
        );
        let mut n = 2;
        while !used_logins.insert(login.clone()) {
            login = format!(
                "{}.{}{}@{}",
                first.to_lowercase(),
                last.to_lowercase(),
                n,
                s.domain
            );
            n += 1;
        }
        let id = s.new_id("00u");
        ids[i] = id.clone();
        let p = &people[i];
        let dept = DEPTS.get(p.dept).map_or("Executive", |d| d.name);
        let (city, state, country) = CITIES[s.rng.gen_range(0..CITIES.len())];
        let mut profile = Map::new();
        profile.insert("firstName".into(), json!(first));
        profile.insert("lastName".into(), json!(last));
        profile.insert("displayName".into(), json!(format!("{first} {last}")));
        profile.insert("login".into(), json!(login));
        profile.insert("email".into(), json!(login));
        profile.insert("title".into(), json!(p.title));
        profile.insert("department".into(), json!(dept));
        profile.insert("employeeNumber".into(), json!(format!("E{:05}", 1000 + i)));
        profile.insert(
            "costCenter".into(),
            json!(DEPTS.get(p.dept).map_or("CC-000", |d| d.cost_center)),
        );
        profile.insert("organization".into(), json!("Acme"));
        profile.insert("userType".into(), json!("Employee"));
        profile.insert("city".into(), json!(city));
        if !state.is_empty() {
            profile.insert("state".into(), json!(state));
        }
        profile.insert("countryCode".into(), json!(country));
        profile.insert(
            "mobilePhone".into(),
            json!(format!("+1415555{:04}", s.rng.gen_range(0..10_000))),
        );
        let age_days = (now - p.created).num_days();
        let last_login = (age_days > 0).then(|| {
            now - Duration::minutes(s.rng.gen_range(5..(age_days.min(30) * 24 * 60).max(10)))
        });
        let user = UserRec {
            id: id.clone(),
            status: "ACTIVE".into(),
            created: p.created,
            activated: Some(p.created + Duration::minutes(3)),
            status_changed: Some(p.created + Duration::minutes(3)),
            last_login,
            last_updated: p.created + Duration::days(age_days.min(90) / 2),
            password_changed: Some(p.created + Duration::hours(1)),
            profile,
            has_password: true,
        };
        s.insert_user(user);
    }
    // Managers by id, now that every id exists.
    for (i, p) in people.iter().enumerate() {
        if let Some(m) = p.manager {
            let manager_name = s.users[&ids[m]].display_name();
            let u = s.users.get_mut(&ids[i]).expect("seeded");
            u.profile.insert("managerId".into(), json!(ids[m]));
            u.profile.insert("manager".into(), json!(manager_name));
        }
    }
    // Managers in Engineering and IT read Slack rather than email: their
    // profile says so with their Slack member id (custom attribute
    // `slackUserId`), and the lockout flow messages them there.
    for (i, p) in people.iter().enumerate() {
        let reads_slack = DEPTS.get(p.dept).is_some_and(|d| matches!(d.name, "Engineering" | "IT"));
        if reads_slack && people.iter().any(|q| q.manager == Some(i)) {
            let u = s.users.get_mut(&ids[i]).expect("seeded");
            u.profile.insert("slackUserId".into(), json!(format!("U0{:08X}", 0x4C41_0000 + i)));
        }
    }

    // Credentials' owners.
    let it = DEPTS
        .iter()
        .position(|d| d.name == "IT")
        .expect("IT department");
    let admin = (0..people.len())
        .find(|&i| people[i].dept == it && people[i].title == DEPTS[it].head)
        .expect("IT head");
    let readonly = (0..people.len())
        .find(|&i| {
            people[i].dept == it && people[i].title == "Security Analyst" && !fresh_ids.contains(&i)
        })
        .unwrap_or_else(|| {
            (0..people.len())
                .find(|&i| people[i].dept == it && i != admin && !fresh_ids.contains(&i))
                .expect("IT staff")
        });
    s.users
        .get_mut(&ids[readonly])
        .expect("seeded")
        .profile
        .insert("title".into(), json!("Security Analyst"));
    let service_created = now - Duration::days(400);
    let service_id = s.new_id("00u");
    let mut sp = Map::new();
    for (k, v) in [
        ("firstName", json!("lanyard")),
        ("lastName", json!("Service Account")),
        ("displayName", json!("lanyard (service account)")),
        ("login", json!(format!("svc-lanyard@{}", s.domain))),
        ("email", json!(format!("it-automation@{}", s.domain))),
        ("title", json!("Service Account")),
        ("department", json!("IT")),
        ("userType", json!("Service")),
        ("organization", json!("Acme")),
        ("managerId", json!(ids[admin])),
        ("manager", json!(s.users[&ids[admin]].display_name())),
    ] {
        sp.insert(k.into(), v);
    }
    s.insert_user(UserRec {
        id: service_id.clone(),
        status: "ACTIVE".into(),
        created: service_created,
        activated: Some(service_created),
        status_changed: Some(service_created),
        last_login: None,
        last_updated: service_created,
        password_changed: Some(service_created),
        profile: sp,
        has_password: true,
    });

    // Statuses: the newest hires are staged or pending; a few others are
    // locked out, suspended or deactivated.
    let special = [admin, readonly];
    for (k, &i) in fresh_ids.iter().enumerate() {
        let u = s.users.get_mut(&ids[i]).expect("seeded");
        match k {
            // The rest are active; those hired in the last days have no
            // factor yet and are too new for the MFA reminder.
            0 => set_status(u, "STAGED", None),
            1 => set_status(u, "PROVISIONED", None),
            _ => {}
        }
        if k < 2 {
            u.has_password = false;
            u.password_changed = None;
            u.last_login = None;
            if k == 0 {
                u.activated = None;
            }
        }
    }
    let mut candidates: Vec<usize> = (1..people.len())
        .filter(|i| {
            !fresh_ids.contains(i)
                && !special.contains(i)
                && !people[*i].title.contains("Manager")
                && DEPTS
                    .get(people[*i].dept)
                    .is_none_or(|d| d.head != people[*i].title)
        })
        .collect();
    let n = candidates.len();
    let mut take = |st: &mut OrgState, count: usize, status: &str| {
        for _ in 0..count {
            if candidates.is_empty() {
                return;
            }
            let idx = st.rng.gen_range(0..candidates.len());
            let i = candidates.swap_remove(idx);
            let when = now - Duration::days(st.rng.gen_range(1..120));
            set_status(
                st.users.get_mut(&ids[i]).expect("seeded"),
                status,
                Some(when),
            );
        }
    };
    take(s, (n / 60).max(3), "LOCKED_OUT");
    take(s, (n / 80).max(2), "SUSPENDED");
    take(s, (n / 40).max(4), "DEPROVISIONED");
    take(s, 1, "PASSWORD_EXPIRED");

    // Groups.
    let g_everyone = s.add_group(
        now - years,
        "Everyone",
        "All users in your organization",
        "BUILT_IN",
    );
    s.everyone_group = g_everyone.clone();
    let dept_groups: Vec<String> = DEPTS
        .iter()
        .map(|d| {
            s.add_group(
                now - years + Duration::days(1),
                d.name,
                &format!("Everyone in {}", d.name),
                "OKTA_GROUP",
            )
        })
        .collect();
    let g_exec = s.add_group(
        now - years + Duration::days(1),
        "Executive",
        "The leadership team",
        "OKTA_GROUP",
    );
    let app_group = |s: &mut OrgState, name: &str, what: &str| {
        s.add_group(
            now - years + Duration::days(30),
            name,
            &format!("Assigns {what}"),
            "OKTA_GROUP",
        )
    };
    let g_github = app_group(s, "GitHub", "GitHub Enterprise Cloud");
    let g_jira = app_group(s, "Jira", "Jira Software");
    let g_sfdc = app_group(s, "Salesforce", "Salesforce");
    let g_gong = app_group(s, "Gong", "Gong");
    let g_bamboo = app_group(s, "BambooHR", "BambooHR");
    let g_admins = s.add_group(
        now - years,
        "Okta Administrators",
        "Admins of the Okta org",
        "OKTA_GROUP",
    );
    let g_managers = s.add_group(
        now - years + Duration::days(2),
        "People Managers",
        "Everyone with direct reports",
        "OKTA_GROUP",
    );

    let user_ids: Vec<String> = s.users.keys().cloned().collect();
    for uid in &user_ids {
        s.add_member(&g_everyone, uid, now, None);
    }
    for (i, p) in people.iter().enumerate() {
        let uid = ids[i].clone();
        if p.dept == usize::MAX {
            s.add_member(&g_exec, &uid, now, None);
            s.add_member(&g_bamboo, &uid, now, None);
            continue;
        }
        let dept = &DEPTS[p.dept];
        s.add_member(&dept_groups[p.dept], &uid, now, None);
        if p.title == dept.head {
            s.add_member(&g_exec, &uid, now, None);
        }
        let is_manager = p.title == dept.head || p.title == dept.manager;
        if is_manager {
            s.add_member(&g_managers, &uid, now, None);
            s.add_member(&g_bamboo, &uid, now, None);
        }
        // Recent hires not yet onboarded have no app groups: what onboarding is for.
        if fresh_ids.contains(&i) {
            continue;
        }
        // A few people drift from what their department implies.
        let drift = s.rng.gen_range(0..100) < 4;
        match dept.name {
            "Engineering" => {
                s.add_member(&g_github, &uid, now, None);
                if !drift {
                    s.add_member(&g_jira, &uid, now, None);
                }
            }
            "Product" => {
                s.add_member(&g_jira, &uid, now, None);
                if drift {
                    s.add_member(&g_github, &uid, now, None);
                }
            }
            "Sales" => {
                s.add_member(&g_sfdc, &uid, now, None);
                if !drift {
                    s.add_member(&g_gong, &uid, now, None);
                }
            }
            "Support" => {
                s.add_member(&g_sfdc, &uid, now, None);
                s.add_member(&g_jira, &uid, now, None);
            }
            "HR" => {
                s.add_member(&g_bamboo, &uid, now, None);
            }
            _ => {}
        }
    }
    for i in [admin, readonly] {
        s.add_member(&g_admins, &ids[i], now, None);
    }
    s.add_member(&g_admins, &service_id, now, None);

    // Apps: the use cases' apps through their groups; the rest for everyone.
    let apps: [(&str, &str, &String); 8] = [
        ("github", "GitHub Enterprise Cloud", &g_github),
        ("jira", "Jira Software", &g_jira),
        ("salesforce", "Salesforce", &g_sfdc),
        ("gong", "Gong", &g_gong),
        ("bamboohr", "BambooHR", &g_bamboo),
        ("slack", "Slack", &g_everyone),
        ("google", "Google Workspace", &g_everyone),
        ("zoom", "Zoom", &g_everyone),
    ];
    let apps_created = now - years + Duration::days(30);
    for (name, label, group) in apps {
        let id = s.new_id("0oa");
        let mut app = AppRec::new(id.clone(), name, label, apps_created);
        app.groups.insert(
            group.clone(),
            AppGroupRec {
                priority: 0,
                profile: Map::new(),
                created: apps_created,
                last_updated: apps_created,
            },
        );
        s.apps.insert(id, app);
    }

    // Factors: most settled users have one or two; recent hires mostly none;
    // a tenth of everyone else never enrolled.
    let types: [(&str, u32); 4] = [
        ("push", 50),
        ("token:software:totp", 25),
        ("webauthn", 15),
        ("sms", 10),
    ];
    for uid in &user_ids {
        let u = &s.users[uid];
        let age_days = (now - u.created).num_days();
        let settled = matches!(
            u.status.as_str(),
            "ACTIVE" | "LOCKED_OUT" | "SUSPENDED" | "DEPROVISIONED" | "PASSWORD_EXPIRED"
        );
        let roll = s.rng.gen_range(0..100);
        // Nobody enrolls in their first three days: the newest active hire is
        // who the MFA reminder must not email yet.
        let enroll = settled
            && if age_days < 3 {
                false
            } else if age_days < 14 {
                roll < 25
            } else {
                roll >= 12
            };
        let service = u.profile.get("userType") == Some(&Value::from("Service"));
        if !(enroll || service || *uid == ids[admin] || *uid == ids[readonly]) {
            continue;
        }
        let how_many = if service {
            1
        } else if s.rng.gen_range(0..100) < 25 {
            2
        } else {
            1
        };
        let mut chosen: Vec<&str> = Vec::new();
        while chosen.len() < how_many {
            let t = if service {
                "token:software:totp"
            } else {
                pick_weighted(s, &types)
            };
            if !chosen.contains(&t) {
                chosen.push(t);
            }
        }
        let created = s.users[uid].created + Duration::hours(2);
        let login = s.users[uid].login().to_string();
        for t in chosen {
            let (prefix, provider, profile) = match t {
                "push" => (
                    "opf",
                    "OKTA",
                    json!({"credentialId": login, "deviceType": "SmartPhone_Android", "name": "Pixel 8", "platform": "ANDROID", "version": "14"}),
                ),
                "token:software:totp" => ("ost", "OKTA", json!({"credentialId": login})),
                "webauthn" => (
                    "fwf",
                    "FIDO",
                    json!({"authenticatorName": "YubiKey 5", "credentialId": "x7G0dZm9mUlSQ3p0qBfPm8kHc5cP3Zx1u7a2mXQ4k0E"}),
                ),
                _ => (
                    "mbl",
                    "OKTA",
                    json!({"phoneNumber": format!("+1415555{:04}", s.rng.gen_range(0..10_000))}),
                ),
            };
            let id = s.new_id(prefix);
            s.factors.entry(uid.clone()).or_default().push(FactorRec {
                id,
                factor_type: t.into(),
                provider: provider.into(),
                vendor_name: provider.into(),
                status: "ACTIVE".into(),
                created,
                profile,
            });
        }
    }

    // Sessions for whoever signed in during the last day.
    for uid in &user_ids {
        let u = &s.users[uid];
        if u.status == "ACTIVE" && u.last_login.is_some_and(|t| now - t < Duration::days(1)) {
            let sid = s.new_id("102");
            s.sessions.entry(uid.clone()).or_default().push(sid);
            *s.oauth_grants.entry(uid.clone()).or_default() += 1;
        }
    }

    // Apps assigned to people one by one (scope USER), after everything
    // else so the rest of the org is what it was before they existed:
    // Asana for Marketing and Product, Workday for HR and Finance.
    for (name, label, depts) in [
        ("asana", "Asana", ["Marketing", "Product"]),
        ("workday", "Workday", ["HR", "Finance"]),
    ] {
        let id = s.new_id("0oa");
        let mut app = AppRec::new(id.clone(), name, label, apps_created + Duration::days(200));
        for (i, p) in people.iter().enumerate() {
            let in_dept = DEPTS.get(p.dept).is_some_and(|d| depts.contains(&d.name));
            if in_dept && !fresh_ids.contains(&i) {
                let when = p.created.max(app.created) + Duration::days(1);
                app.users.insert(
                    ids[i].clone(),
                    AppUserRec {
                        direct: true,
                        user_name: None,
                        profile: Map::new(),
                        created: when,
                        last_updated: when,
                    },
                );
            }
        }
        s.apps.insert(id, app);
    }

    Seeded {
        admin_id: ids[admin].clone(),
        service_id,
        readonly_id: ids[readonly].clone(),
    }
}

/// `count` more people, generated after the company: `first.last.N@domain`,
/// in every department (its group, and its app groups as the company has
/// them) under the department's managers, created over six years, mostly
/// active, four in five with a factor. Deterministic from `seed`; the rest of
/// the org (and the ids the org hands out later) does not depend on `count`.
pub fn extra_users(s: &mut OrgState, now: DateTime<Utc>, seed: u64, count: usize) {
    use rand::SeedableRng;
    if count == 0 {
        return;
    }
    // Their own stream, swapped in for the org's while they are made.
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed ^ 0x4558_5452_4155_5352);
    std::mem::swap(&mut s.rng, &mut rng);
    let group_named = |s: &OrgState, name: &str| {
        s.groups
            .values()
            .find(|g| g.name == name)
            .map(|g| g.id.clone())
    };
    let everyone = s.everyone_group.clone();
    // Per department: its group, its app groups, its managers (id, name).
    type DeptPlan = (Option<String>, Vec<String>, Vec<(String, String)>);
    let depts: Vec<DeptPlan> = DEPTS
        .iter()
        .map(|d| {
            let apps: &[&str] = match d.name {
                "Engineering" => &["GitHub", "Jira"],
                "Product" => &["Jira"],
                "Sales" => &["Salesforce", "Gong"],
                "Support" => &["Salesforce", "Jira"],
                "HR" => &["BambooHR"],
                _ => &[],
            };
            let managers = s
                .users
                .values()
                .filter(|u| {
                    u.profile.get("department") == Some(&json!(d.name))
                        && u.profile.get("title") == Some(&json!(d.manager))
                })
                .map(|u| (u.id.clone(), u.display_name()))
                .collect();
            (
                group_named(s, d.name),
                apps.iter().filter_map(|a| group_named(s, a)).collect(),
                managers,
            )
        })
        .collect();
    let weights: Vec<(usize, u32)> = DEPTS
        .iter()
        .enumerate()
        .map(|(i, d)| (i, d.weight))
        .collect();
    let total: u32 = weights.iter().map(|(_, w)| w).sum();
    let factor_types = ["push", "token:software:totp", "webauthn", "sms"];
    for k in 0..count {
        let first = FIRST[k % FIRST.len()];
        let last = LAST[(k / FIRST.len()) % LAST.len()];
        let login = format!(
            "{}.{}.{}@{}",
            first.to_lowercase(),
            last.to_lowercase(),
            k + 1,
            s.domain
        );
        let mut roll = s.rng.gen_range(0..total);
        let di = weights
            .iter()
            .find(|(_, w)| {
                let hit = roll < *w;
                if !hit {
                    roll -= w;
                }
                hit
            })
            .map_or(0, |(i, _)| *i);
        let dept = &DEPTS[di];
        let title = dept.titles[s.rng.gen_range(0..dept.titles.len())];
        let created = now - Duration::minutes(s.rng.gen_range(60..6 * 365 * 24 * 60));
        let (city, state, country) = CITIES[s.rng.gen_range(0..CITIES.len())];
        let id = s.new_id("00u");
        let mut profile = Map::new();
        for (key, value) in [
            ("firstName", first.to_string()),
            ("lastName", last.to_string()),
            ("displayName", format!("{first} {last}")),
            ("login", login.clone()),
            ("email", login.clone()),
            ("title", title.to_string()),
            ("department", dept.name.to_string()),
            ("employeeNumber", format!("X{:06}", k + 1)),
            ("costCenter", dept.cost_center.to_string()),
            ("organization", "Acme".to_string()),
            ("userType", "Employee".to_string()),
            ("city", city.to_string()),
            ("countryCode", country.to_string()),
        ] {
            profile.insert(key.into(), json!(value));
        }
        if !state.is_empty() {
            profile.insert("state".into(), json!(state));
        }
        let (group, app_groups, managers) = &depts[di];
        if !managers.is_empty() {
            let (mid, name) = &managers[k % managers.len()];
            profile.insert("managerId".into(), json!(mid));
            profile.insert("manager".into(), json!(name));
        }
        let status = match s.rng.gen_range(0..100) {
            0..=1 => "DEPROVISIONED",
            2 => "SUSPENDED",
            3 => "LOCKED_OUT",
            4 => "STAGED",
            _ => "ACTIVE",
        };
        let staged = status == "STAGED";
        let age_days = (now - created).num_days();
        let mut user = UserRec {
            id: id.clone(),
            status: "ACTIVE".into(),
            created,
            activated: (!staged).then(|| created + Duration::minutes(3)),
            status_changed: Some(created + Duration::minutes(3)),
            last_login: (!staged && age_days > 0).then(|| {
                now - Duration::minutes(s.rng.gen_range(5..(age_days.min(30) * 24 * 60).max(10)))
            }),
            last_updated: created + Duration::days(age_days.min(90) / 2),
            password_changed: (!staged).then(|| created + Duration::hours(1)),
            profile,
            has_password: !staged,
        };
        if status != "ACTIVE" {
            let when = now - Duration::days(s.rng.gen_range(1..120));
            set_status(&mut user, status, (!staged).then_some(when));
        }
        s.insert_user(user);
        s.add_member(&everyone, &id, now, None);
        if let Some(g) = group {
            s.add_member(g, &id, now, None);
        }
        if !staged {
            for g in app_groups {
                s.add_member(g, &id, now, None);
            }
        }
        if !staged && s.rng.gen_range(0..100) < 80 {
            let t = factor_types[s.rng.gen_range(0..factor_types.len())];
            let (prefix, provider) = match t {
                "push" => ("opf", "OKTA"),
                "token:software:totp" => ("ost", "OKTA"),
                "webauthn" => ("fwf", "FIDO"),
                _ => ("mbl", "OKTA"),
            };
            let fid = s.new_id(prefix);
            let profile = match t {
                "sms" => {
                    json!({"phoneNumber": format!("+1415555{:04}", s.rng.gen_range(0..10_000))})
                }
                "webauthn" => json!({"authenticatorName": "YubiKey 5"}),
                _ => json!({"credentialId": login}),
            };
            s.factors.entry(id.clone()).or_default().push(FactorRec {
                id: fid,
                factor_type: t.into(),
                provider: provider.into(),
                vendor_name: provider.into(),
                status: "ACTIVE".into(),
                created: created + Duration::hours(2),
                profile,
            });
        }
    }
    std::mem::swap(&mut s.rng, &mut rng);
}

fn set_status(u: &mut UserRec, status: &str, when: Option<DateTime<Utc>>) {
    u.status = status.to_string();
    let when = when.unwrap_or(u.created).max(u.created);
    u.status_changed = Some(when);
    if u.last_updated < when {
        u.last_updated = when;
    }
}

fn pick_weighted<'a>(s: &mut OrgState, items: &[(&'a str, u32)]) -> &'a str {
    let total: u32 = items.iter().map(|(_, w)| w).sum();
    let mut roll = s.rng.gen_range(0..total);
    for (item, w) in items {
        if roll < *w {
            return item;
        }
        roll -= w;
    }
    items[0].0
}
