from django.db import migrations, models
from django.utils import timezone


def create_the_row(apps, schema_editor):
    """The one version row, made here so that no first change has to race to create it."""
    ShelfVersion = apps.get_model("uploads", "ShelfVersion")
    ShelfVersion.objects.get_or_create(pk=1, defaults={"version": 0, "changed_at": timezone.now()})


class Migration(migrations.Migration):

    dependencies = [
        ("uploads", "0001_initial"),
    ]

    operations = [
        migrations.AlterField(
            model_name="shelfversion",
            name="changed_at",
            field=models.DateTimeField(
                default=timezone.now,
                help_text="Moves forward by at least a second with every change, so that "
                "Last-Modified (whole seconds) changes with every change.",
            ),
        ),
        migrations.RunPython(create_the_row, migrations.RunPython.noop),
    ]
