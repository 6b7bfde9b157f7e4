//! The exercise harness's results file (`WORKBOOK_RESULTS=path`): one line
//! per case the runner judged,
//!
//! ```text
//! exercise<TAB>case<TAB>user<TAB>pass|fail|skip<TAB>sentence
//! ```
//!
//! where user is `root`, `unprivileged` or `once`. The tool reads verdicts
//! here rather than scraping the test's output.

/// One judged case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseResult {
    /// `ex03` (or the package name: both are accepted).
    pub exercise: String,
    pub case: String,
    /// `root`, `unprivileged` or `once`.
    pub user: String,
    pub status: Status,
    /// Why it failed or was skipped; may be empty for a pass.
    pub sentence: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Pass,
    Fail,
    Skip,
}

/// Every well-formed line; a malformed one (a line cut short by a killed
/// run) is left out rather than guessed at.
pub fn parse(text: &str) -> Vec<CaseResult> {
    text.lines().filter_map(line).collect()
}

fn line(line: &str) -> Option<CaseResult> {
    let mut fields = line.splitn(5, '\t');
    let (exercise, case, user, status) = (
        fields.next()?,
        fields.next()?,
        fields.next()?,
        fields.next()?,
    );
    let status = match status {
        "pass" => Status::Pass,
        "fail" => Status::Fail,
        "skip" => Status::Skip,
        _ => return None,
    };
    if !matches!(user, "root" | "unprivileged" | "once") {
        return None;
    }
    Some(CaseResult {
        exercise: exercise.to_owned(),
        case: case.to_owned(),
        user: user.to_owned(),
        status,
        sentence: fields.next().unwrap_or("").to_owned(),
    })
}

impl CaseResult {
    /// `case (user)`, as the harness labels it in its summary.
    pub fn label(&self) -> String {
        match self.user.as_str() {
            "once" => self.case.clone(),
            user => format!("{} ({user})", self.case),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_contract_format() {
        let text = "ex03\tmoves\troot\tpass\t\n\
                    ex03\tmoves\tunprivileged\tfail\tstill todo!() at src/lib.rs:3: x\ty\n\
                    ex03\trefuses\tonce\tskip\tneeds root\n\
                    ex03\tcut";
        let results = parse(text);
        assert_eq!(results.len(), 3, "{results:?}");
        assert_eq!(results[0].status, Status::Pass);
        assert_eq!(results[1].sentence, "still todo!() at src/lib.rs:3: x\ty");
        assert_eq!(results[1].label(), "moves (unprivileged)");
        assert_eq!(results[2].label(), "refuses");
        assert_eq!(results[2].status, Status::Skip);
        assert!(parse("ex03\ta\tnobody\tpass\t\n").is_empty());
        assert!(parse("ex03\ta\troot\tmaybe\t\n").is_empty());
    }
}
