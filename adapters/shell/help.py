"""What `/ticket help` prints on the shell."""

HELP = """Commands (the same words as Slack and Discord):
  /ticket new [subject]     open a ticket; give fields inline to skip questions:
      category=refund subject="…" description="…" priority=high account=1234 receipt=…
      share=yes makes it visible to your organisation; cc=marco,omar@example.com adds
      watchers (names or e-mail addresses, separated by commas)
  /ticket list [open|closed|all] [mine|org] [unread] [page N]
  /ticket show N            /ticket transcript N
  /ticket search words "a phrase" -word #N  [status:open|closed|… category:… priority:…
      assignee:me|NAME|none requester:NAME before:YYYY-MM-DD after:YYYY-MM-DD]
  /ticket reply N text      /ticket note N text        (agents)
  /ticket claim N | assign N NAME | unassign N | wait N question | hold N reason | resume N (agents)
  /ticket priority N low|normal|high|urgent | resolve N note (agents)
  /ticket escalate N reason (agents; the requester once its first response is overdue)
  /ticket link N related|duplicate_of M (agents)
  /ticket close N [reason] | reopen N                  (agents; the requester for their own)
  /ticket ask-close N [message]  ask the requester to confirm closing (agents)
  /ticket keep-open N       the requester: no, I still need help (a close request)
  /ticket rate N good|bad [comment]   the requester, once it is resolved
  /ticket watch N | unwatch N        follow a ticket you can see (every public update)
  /ticket cc N NAME|address | uncc N NAME|address   add/remove a watcher
                                                     (the requester; agents)
  /ticket share N | unshare N        visible to the requester's organisation, or not
                                     (the requester; agents)
  /ticket queue [page N] (agents)    /ticket stats [7d|30d|90d] (agents)    /ticket help
  /thread N [team]          enter a ticket's thread (team thread: agents only);
                            plain text is then a message in that thread
  /as NAME [--agent]        act as someone else      /quit
Inside a thread the ticket number may be omitted; another ticket is then #N
(/ticket reply 2 weeks is usual, in #1, replies on #1)."""
