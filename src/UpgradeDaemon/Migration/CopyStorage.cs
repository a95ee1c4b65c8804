namespace LocalMigrate.UpgradeDaemon.Migration;

/// <summary>Salt's <c>copy_storage</c>: which disks a remote migration copies (DESIGN.md 6).</summary>
public enum CopyStorage
{
    /// <summary>Nothing: every disk is on storage both hosts see.</summary>
    None,

    /// <summary>Every disk that is neither shared nor read-only: the destination creates an image of the same format and size.</summary>
    All,

    /// <summary>Like <see cref="All"/>, but only the top layer of a disk with a backing file: the backing chain is on the destination already.</summary>
    Inc,
}
