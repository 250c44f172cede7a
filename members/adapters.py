"""allauth adapter: keeps usernames out of the way and onboards each new member."""

from allauth.account.adapter import DefaultAccountAdapter


class AccountAdapter(DefaultAccountAdapter):
    def populate_username(self, request, user):
        if not user.username:
            user.username = user.email

    def save_user(self, request, user, form, commit=True):
        user = super().save_user(request, user, form, commit=commit)
        if commit:
            from members.services.accounts import member_onboard

            member_onboard(user=user)
        return user
