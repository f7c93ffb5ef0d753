{#- The identity of a credit card across bank sources (models/staging/bank/README.md): each source has its own id
    for a card account (Open Finance's `creditCardAccountId`, Pluggy's account id, an OFX ACCTID), but every one of
    them can name the card the way its holder does: the issuing bank and the card's last four digits.
        card_account_key = '<compe, 3 digits>:card:<last four digits>'
    Empty when either is unknown (an OFX statement naming no bank, an opaque ACCTID; an Open Finance institution
    with no deposit account in the consent): the card is then keyed by its source's own ids and matches no other
    source. Known limit: two cards of one bank ending in the same four digits are one card here. -#}
{% macro card_account_key(compe_code, card_last4) -%}
    if(
        match(coalesce({{ compe_code }}, ''), '^[0-9]{1,4}$') and match(coalesce({{ card_last4 }}, ''), '^[0-9]{4}$'),
        concat(
            leftPad(coalesce(nullIf(replaceRegexpOne({{ compe_code }}, '^0+', ''), ''), '0'), 3, '0'),
            ':card:',
            {{ card_last4 }}
        ),
        ''
    )
{%- endmacro %}
