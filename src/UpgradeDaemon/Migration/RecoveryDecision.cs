using LocalMigrate.UpgradeDaemon.Domains;

namespace LocalMigrate.UpgradeDaemon.Migration;

/// <summary>What recovery does with one domain: the instance to keep (the one holding the newest guest), the ones to kill.</summary>
/// <param name="Keep">The instance that becomes the domain's one active instance; null when none may or can.</param>
/// <param name="Resume">Send <c>cont</c> to <paramref name="Keep"/>: the migration, not the user, stopped it.</param>
/// <param name="Kill">Answering instances to kill and remove: never a deaf one, never the one kept.</param>
/// <param name="State">The domain's state afterwards.</param>
/// <param name="Reason">Why, in an operator's words (the job's error when it failed).</param>
public sealed record RecoveryDecision(RecoveryAction Action, string? Keep, bool Resume, IReadOnlyList<string> Kill,
    RecoveryOutcome Outcome, DomainState State, string Reason)
{
    public static RecoveryDecision Settle(string reason) =>
        new(RecoveryAction.Settle, null, false, [], RecoveryOutcome.Undecided, DomainState.Starting, reason);

    public override string ToString() =>
        $"{Action} keep {Keep ?? "-"}{(Resume ? " +cont" : "")} kill [{string.Join(",", Kill)}] {Outcome} {State}: {Reason}";
}
