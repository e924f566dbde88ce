"""The messaging fields of `Person`: unread count, messages, conversations, recipients."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from resolvers.core.access import Subject
from resolvers.core.context import Context
from resolvers.messages.messages import MessageConnection, messages_of, unread_message_count
from resolvers.messages.recipients import MessageRecipient, message_recipients_of
from resolvers.messages.threads import MessageThreadConnection, ThreadFilter, threads_of


@strawberry.type
class MessageFields:
    subject: strawberry.Private[Subject]

    @strawberry.field(
        description="How many messages to this person are unread, over every system "
        "(health record and municipality)."
    )
    async def unread_message_count(self, info: Info[Context, None]) -> int | None:
        return await unread_message_count(info, self.subject)

    @strawberry.field(description="Messages with care providers, newest first, every system.")
    async def messages(
        self,
        info: Info[Context, None],
        first: int = 20,
        after: str | None = None,
        unread_only: bool = False,
    ) -> MessageConnection | None:
        return await messages_of(info, self.subject, first, after, unread_only)

    @strawberry.field(
        description="Conversations with care providers, newest activity first; each "
        "names its care provider and system and lists its messages oldest first."
    )
    async def threads(
        self,
        info: Info[Context, None],
        first: int = 20,
        after: str | None = None,
        filter: ThreadFilter | None = None,
    ) -> MessageThreadConnection | None:
        return await threads_of(info, self.subject, first, after, filter)

    @strawberry.field(
        description="Whom the viewer may write a new message to for this person: the GP "
        "office, hospital departments they have appointments with, the home "
        "municipality. Some bases may write to some kinds only (a parent of a "
        "12-15-year-old: GP and municipality)."
    )
    async def message_recipients(self, info: Info[Context, None]) -> list[MessageRecipient] | None:
        return await message_recipients_of(info, self.subject)
